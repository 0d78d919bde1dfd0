// Display helpers for names, dates and ages. Pure functions, no DOM.

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "SCHMIDT, Catherine Anne" — family name upper-cased, then given and other names. */
export function displayName(family: string, given: string, other = ''): string {
  const fam = family.trim().toLocaleUpperCase();
  const rest = [given.trim(), other.trim()].filter((s) => s !== '').join(' ');
  if (fam && rest) return `${fam}, ${rest}`;
  return fam || rest || '(no name)';
}

/**
 * A birth date for display. Full dates ("1982-04-17") become "17 Apr 1982";
 * estimated dates hold only a year and become "~1982". Anything unexpected is
 * shown as it is, so nothing is hidden from the clinician.
 */
export function displayBirthDate(birthDate: string, estimated: boolean): string {
  const s = (birthDate ?? '').trim();
  if (s === '') return '';
  const full = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  let text = s;
  if (full) {
    const m = Number(full[2]);
    const d = Number(full[3]);
    if (m >= 1 && m <= 12 && d >= 1 && d <= 31) text = `${d} ${MONTHS[m - 1]} ${full[1]}`;
  } else {
    const ym = /^(\d{4})-(\d{2})$/.exec(s);
    if (ym && Number(ym[2]) >= 1 && Number(ym[2]) <= 12) text = `${MONTHS[Number(ym[2]) - 1]} ${ym[1]}`;
  }
  return estimated ? `~${text}` : text;
}

/** The age as given by the backend, with "~" added when the birth date is estimated. */
export function displayAge(age: string, estimated: boolean): string {
  const a = (age ?? '').trim();
  if (a === '') return '';
  if (estimated && !a.startsWith('~')) return `~${a}`;
  return a;
}

/** "44 y · 17 Apr 1982", "~44 y · ~1982", or whichever part is known. */
export function displayAgeAndBirth(age: string, birthDate: string, estimated: boolean): string {
  return [displayAge(age, estimated), displayBirthDate(birthDate, estimated)].filter((s) => s !== '').join(' · ');
}

const SEX_LABELS: Record<string, string> = {
  female: 'Female',
  male: 'Male',
  other: 'Other',
  unknown: 'Unknown',
};

export function sexLabel(sex: string): string {
  if (!sex) return 'Not recorded';
  return SEX_LABELS[sex] ?? sex;
}

export interface DateTimeOptions {
  locale?: string;
  timeZone?: string;
}

/** An RFC 3339 timestamp in the user's local format, e.g. "23 Nov 2026, 14:03". */
export function formatDateTime(iso: string, opts: DateTimeOptions = {}): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(opts.locale, {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: opts.timeZone,
  }).format(d);
}

/**
 * Estimated age in whole years for a birth year, used to fill the "estimated
 * age" field when editing a patient whose birth date is only estimated.
 */
export function yearsSince(year: string, now: Date = new Date()): string {
  const y = Number((year ?? '').slice(0, 4));
  if (!Number.isInteger(y) || y < 1000) return '';
  const n = now.getFullYear() - y;
  return n >= 0 ? String(n) : '';
}

/** The local time of an RFC 3339 timestamp as 24-hour "HH:MM", e.g. "14:03". */
export function formatTime(iso: string, opts: DateTimeOptions = {}): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(opts.locale, {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone: opts.timeZone,
  }).format(d);
}

/** True when an RFC 3339 timestamp lies in the future. */
export function isFuture(iso: string, now: number = Date.now()): boolean {
  if (!iso) return false;
  const t = new Date(iso).getTime();
  return !Number.isNaN(t) && t > now;
}

/** "JBSW Y3DP EHPK 3PXP": a base32 secret in groups of four for reading aloud or typing. */
export function groupSecret(secret: string, size = 4): string[] {
  const clean = (secret ?? '').replace(/[\s-]/g, '').toUpperCase();
  const out: string[] = [];
  for (let i = 0; i < clean.length; i += size) out.push(clean.slice(i, i + size));
  return out;
}
