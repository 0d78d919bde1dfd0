import { describe, expect, it } from 'vitest';
import { validLocale } from '../src/lib/localeGuard';

describe('validLocale', () => {
  it('accepts BCP 47 tags and refuses the POSIX "C" locale', () => {
    expect(validLocale('en-US')).toBe(true);
    expect(validLocale('fr')).toBe(true);
    expect(validLocale('C')).toBe(false);
    expect(validLocale('')).toBe(false);
    expect(validLocale(undefined)).toBe(false);
  });
});
