import { describe, expect, it } from 'vitest';
// The helper the end-to-end tests use to answer MFA prompts.
import { base32Decode, totp } from '../e2e/totp.mjs';

describe('e2e TOTP helper (RFC 6238, SHA-1)', () => {
  const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'; // base32 of "12345678901234567890"

  it('decodes base32, ignoring spaces and case', () => {
    expect(base32Decode('gezd gnbv gy3t qojq gezd gnbv gy3t qojq').toString()).toBe('12345678901234567890');
  });

  it.each([
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ])('matches the RFC test vector at T=%i', (t, code) => {
    expect(totp(secret, t, { digits: 8 })).toBe(code);
    expect(totp(secret, t)).toBe(code.slice(2));
  });

  it('changes every 30 seconds', () => {
    expect(totp(secret, 30)).toBe(totp(secret, 59));
    expect(totp(secret, 60)).not.toBe(totp(secret, 59));
  });
});
