import { describe, expect, it } from 'vitest';
import {
  displayAge,
  displayAgeAndBirth,
  displayBirthDate,
  displayName,
  formatDateTime,
  formatTime,
  groupSecret,
  sexLabel,
  yearsSince,
} from '../src/lib/format';

describe('displayName', () => {
  it('upper-cases the family name and joins the rest', () => {
    expect(displayName('Schmidt', 'Catherine')).toBe('SCHMIDT, Catherine');
    expect(displayName(' Okafor ', 'Amina', 'Ngozi')).toBe('OKAFOR, Amina Ngozi');
  });
  it('copes with missing parts', () => {
    expect(displayName('Banda', '')).toBe('BANDA');
    expect(displayName('', 'Grace')).toBe('Grace');
    expect(displayName('', '')).toBe('(no name)');
  });
});

describe('birth dates and ages', () => {
  it('formats full dates without depending on the locale', () => {
    expect(displayBirthDate('1982-04-17', false)).toBe('17 Apr 1982');
    expect(displayBirthDate('2024-12-01', false)).toBe('1 Dec 2024');
  });
  it('marks estimated dates with ~', () => {
    expect(displayBirthDate('1982', true)).toBe('~1982');
  });
  it('shows unexpected values as they are', () => {
    expect(displayBirthDate('1982-13-40', false)).toBe('1982-13-40');
    expect(displayBirthDate('', false)).toBe('');
  });
  it('adds ~ to estimated ages once', () => {
    expect(displayAge('44 y', true)).toBe('~44 y');
    expect(displayAge('~44 y', true)).toBe('~44 y');
    expect(displayAge('8 mo', false)).toBe('8 mo');
    expect(displayAge('', true)).toBe('');
  });
  it('combines age and birth date', () => {
    expect(displayAgeAndBirth('44 y', '1982-04-17', false)).toBe('44 y · 17 Apr 1982');
    expect(displayAgeAndBirth('44 y', '1982', true)).toBe('~44 y · ~1982');
    expect(displayAgeAndBirth('', '', false)).toBe('');
  });
  it('estimates years since a birth year', () => {
    const now = new Date(2026, 5, 1);
    expect(yearsSince('1982', now)).toBe('44');
    expect(yearsSince('1982-04-17', now)).toBe('44');
    expect(yearsSince('', now)).toBe('');
    expect(yearsSince('2030', now)).toBe('');
  });
});

describe('labels and times', () => {
  it('labels sex values', () => {
    expect(sexLabel('female')).toBe('Female');
    expect(sexLabel('')).toBe('Not recorded');
    expect(sexLabel('x')).toBe('x');
  });
  it('formats RFC 3339 times in the given zone', () => {
    const s = formatDateTime('2026-11-23T14:03:00Z', { locale: 'en-GB', timeZone: 'UTC' });
    expect(s).toContain('23 Nov 2026');
    expect(s).toContain('14:03');
    expect(formatDateTime('2026-11-23T14:03:00+02:00', { locale: 'en-GB', timeZone: 'UTC' })).toContain('12:03');
  });
  it('leaves bad timestamps as they are', () => {
    expect(formatDateTime('not a time')).toBe('not a time');
    expect(formatDateTime('')).toBe('');
  });
});

describe('formatTime and groupSecret', () => {
  it('shows a 24-hour local time', () => {
    expect(formatTime('2026-11-23T14:05:00Z', { timeZone: 'UTC', locale: 'en-GB' })).toBe('14:05');
    expect(formatTime('2026-11-23T00:07:00Z', { timeZone: 'UTC', locale: 'en-US' })).toBe('00:07');
    expect(formatTime('', {})).toBe('');
    expect(formatTime('not a date')).toBe('not a date');
  });

  it('groups a base32 secret in fours', () => {
    expect(groupSecret('JBSWY3DPEHPK3PXPJB')).toEqual(['JBSW', 'Y3DP', 'EHPK', '3PXP', 'JB']);
    expect(groupSecret('jbsw y3dp')).toEqual(['JBSW', 'Y3DP']);
  });
});
