import { describe, expect, it } from 'vitest';
import { generateTemporaryPassword, newUserErrors, rolesText, settingsErrors, userStatus } from '../src/lib/admin';
import { makeUserInfo } from './fakeGo';

const NOW = Date.parse('2026-11-23T12:00:00Z');

describe('userStatus', () => {
  it('describes an active account with a temporary password', () => {
    expect(userStatus(makeUserInfo(), NOW).map((t) => t.label)).toEqual(['Active', 'Temporary password']);
  });

  it('says why an account is disabled', () => {
    expect(userStatus(makeUserInfo({ disabled: true, disabledReason: 'inactive', temporaryPassword: false }), NOW)[0].label).toMatch(/not used/);
    expect(userStatus(makeUserInfo({ disabled: true, disabledReason: 'admin', temporaryPassword: false }), NOW)[0].label).toMatch(/administrator/);
    expect(userStatus(makeUserInfo({ disabled: true, disabledReason: 'deleted', temporaryPassword: false }), NOW)[0].label).toBe('Deleted');
  });

  it('shows a sign-in lock only while it lasts', () => {
    const locked = makeUserInfo({ lockedUntil: '2026-11-23T12:15:00Z', temporaryPassword: false });
    expect(userStatus(locked, NOW).map((t) => t.kind)).toEqual(['ok', 'restricted']);
    expect(userStatus(locked, NOW)[1].label).toMatch(/^Locked until /);
    const expired = makeUserInfo({ lockedUntil: '2026-11-23T11:15:00Z', temporaryPassword: false });
    expect(userStatus(expired, NOW).map((t) => t.label)).toEqual(['Active']);
  });
});

describe('rolesText', () => {
  it('names roles for people', () => {
    expect(rolesText(['administrator', 'officer'])).toBe('Administrator, Security officer');
    expect(rolesText([])).toBe('No roles');
    expect(rolesText(null)).toBe('No roles');
  });
});

describe('generateTemporaryPassword', () => {
  it('makes four groups of four unambiguous characters', () => {
    for (let i = 0; i < 50; i++) {
      const p = generateTemporaryPassword();
      expect(p).toMatch(/^[a-hjkmnp-z2-9]{4}(-[a-hjkmnp-z2-9]{4}){3}$/);
      expect(p.length).toBeGreaterThanOrEqual(12);
    }
  });

  it('skips bytes that would bias the choice', () => {
    // 248 is the first byte at or above the largest multiple of 31 below 256.
    const bytes = [255, 248, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
    const p = generateTemporaryPassword((n) => Uint8Array.from({ length: n }, (_, i) => bytes[i] ?? 0));
    expect(p).toBe('abcd-efgh-jkmn-pqrs');
  });
});

describe('settingsErrors', () => {
  const ok = { notice: 'Authorised staff only.', idleMinutes: 15, adminIdleMinutes: 10, absoluteHours: 12, auditRetentionYears: 10 };

  it('accepts values inside the bounds', () => {
    expect(settingsErrors(ok)).toEqual({});
    expect(settingsErrors({ ...ok, idleMinutes: 1, adminIdleMinutes: 15, absoluteHours: 24 })).toEqual({});
  });

  it('names each field outside its bounds', () => {
    expect(Object.keys(settingsErrors({ ...ok, idleMinutes: 31, adminIdleMinutes: 0, absoluteHours: 2.5 })).sort()).toEqual([
      'absoluteHours',
      'adminIdleMinutes',
      'idleMinutes',
    ]);
    expect(settingsErrors({ ...ok, adminIdleMinutes: 16 }).adminIdleMinutes).toBe('Enter a whole number from 1 to 15.');
    expect(settingsErrors({ ...ok, idleMinutes: Number.NaN }).idleMinutes).toBeDefined();
    expect(settingsErrors({ ...ok, auditRetentionYears: 6 }).auditRetentionYears).toBe('Enter a whole number from 7 to 75.');
    expect(settingsErrors({ ...ok, auditRetentionYears: 75 })).toEqual({});
  });
});

describe('newUserErrors', () => {
  it('requires every field and a role', () => {
    expect(Object.keys(newUserErrors({ username: ' ', name: '', roles: [], temporaryPassword: 'short' })).sort()).toEqual([
      'name',
      'roles',
      'temporaryPassword',
      'username',
    ]);
    expect(newUserErrors({ username: 'nurse.joy', name: 'Joy Banda', roles: ['nurse'], temporaryPassword: 'abcd-efgh-jkmn' })).toEqual({});
  });
});
