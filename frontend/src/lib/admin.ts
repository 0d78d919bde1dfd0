// Pure helpers for the Administration area.

import type { Settings, UserInfo } from './api';
import { formatDateTime, isFuture } from './format';

export const ROLE_LABELS: Record<string, string> = {
  clinician: 'Clinician',
  nurse: 'Nurse',
  clerk: 'Clerk',
  administrator: 'Administrator',
  officer: 'Security officer',
  auditor: 'Auditor',
};

/** What each role is for, in a line. The backend's permission table decides what it can actually do. */
export const ROLE_HINTS: Record<string, string> = {
  clinician: 'Reads and edits charts, restricts charts, emergency access.',
  nurse: 'Reads and edits charts, emergency access.',
  clerk: 'Registers patients and keeps their details up to date.',
  administrator: 'Manages user accounts and clinic settings; sees security alerts. Needs two-step sign-in.',
  officer: 'Reviews security alerts and the audit record. Needs two-step sign-in.',
  auditor: 'Reads the audit record.',
};

export function roleLabel(role: string): string {
  return ROLE_LABELS[role] ?? role;
}

export function rolesText(roles: string[] | null | undefined): string {
  const list = roles ?? [];
  return list.length === 0 ? 'No roles' : list.map(roleLabel).join(', ');
}

export type StatusKind = 'ok' | 'warn' | 'off' | 'restricted';

export interface StatusTag {
  label: string;
  kind: StatusKind;
}

const DISABLED_LABELS: Record<string, string> = {
  inactive: 'Disabled: not used for a long time',
  admin: 'Disabled by an administrator',
  deleted: 'Deleted',
};

/** Short tags describing an account: active / disabled / locked / temporary password. */
export function userStatus(u: UserInfo, now: number = Date.now()): StatusTag[] {
  const tags: StatusTag[] = [];
  if (u.disabled) tags.push({ label: DISABLED_LABELS[u.disabledReason] ?? 'Disabled', kind: 'off' });
  else tags.push({ label: 'Active', kind: 'ok' });
  if (isLocked(u, now)) tags.push({ label: `Locked until ${formatDateTime(u.lockedUntil)}`, kind: 'restricted' });
  if (u.temporaryPassword) tags.push({ label: 'Temporary password', kind: 'warn' });
  return tags;
}

export function isLocked(u: UserInfo, now: number = Date.now()): boolean {
  return isFuture(u.lockedUntil, now);
}

const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/**
 * A temporary password an administrator can read out: four groups of four
 * from an alphabet without look-alike characters (about 79 bits).
 */
export function generateTemporaryPassword(random: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n))): string {
  const groups: string[] = [];
  // Rejection sampling keeps every character equally likely.
  const limit = 256 - (256 % ALPHABET.length);
  let pool = random(64);
  let i = 0;
  for (let g = 0; g < 4; g++) {
    let group = '';
    while (group.length < 4) {
      if (i >= pool.length) {
        pool = random(64);
        i = 0;
      }
      const b = pool[i++];
      if (b < limit) group += ALPHABET[b % ALPHABET.length];
    }
    groups.push(group);
  }
  return groups.join('-');
}

export const SETTING_BOUNDS: Record<'idleMinutes' | 'adminIdleMinutes' | 'absoluteHours' | 'auditRetentionYears', [number, number]> = {
  idleMinutes: [1, 30],
  adminIdleMinutes: [1, 15],
  absoluteHours: [1, 24],
  auditRetentionYears: [7, 75],
};

/** Local checks of the settings form; the backend checks again. */
export function settingsErrors(s: Settings): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const [key, [min, max]] of Object.entries(SETTING_BOUNDS)) {
    const v = (s as unknown as Record<string, unknown>)[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      errors[key] = `Enter a whole number from ${min} to ${max}.`;
    }
  }
  return errors;
}

export const MIN_TEMPORARY_PASSWORD = 12;

/** Local checks of the new-user form; the backend checks again. */
export function newUserErrors(u: { username: string; name: string; roles: string[]; temporaryPassword: string }): Record<string, string> {
  const errors: Record<string, string> = {};
  if (u.username.trim() === '') errors.username = 'Choose a username.';
  if (u.name.trim() === '') errors.name = 'Enter the full name.';
  if (u.roles.length === 0) errors.roles = 'Choose at least one role.';
  if (u.temporaryPassword.length < MIN_TEMPORARY_PASSWORD) {
    errors.temporaryPassword = `Use at least ${MIN_TEMPORARY_PASSWORD} characters.`;
  }
  return errors;
}
