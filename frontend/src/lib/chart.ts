import { tick } from 'svelte';
// Pure helpers of the chart: vital signs, BMI, labels of coded values,
// dates for new records, and series for the plots. No DOM.

import type { Allergy, ChartItem, Concept, Problem, VitalPoint } from './api';

export interface VitalDef {
  /** Observation.vital */
  key: string;
  /** Short label for forms and tables. */
  label: string;
  /** UCUM code, as stored. */
  unit: string;
  /** The unit as shown. */
  symbol: string;
  /** Plausible range (the backend's; shown as a hint, checked by the backend). */
  min: number;
  max: number;
}

/** The vital signs, in the order a form shows them (the backend's list: backend/ehr/clinical_observation.go). */
export const VITALS: readonly VitalDef[] = [
  { key: 'systolic', label: 'Systolic blood pressure', unit: 'mm[Hg]', symbol: 'mmHg', min: 50, max: 260 },
  { key: 'diastolic', label: 'Diastolic blood pressure', unit: 'mm[Hg]', symbol: 'mmHg', min: 30, max: 160 },
  { key: 'pulse', label: 'Pulse', unit: '/min', symbol: '/min', min: 20, max: 250 },
  { key: 'temperature', label: 'Temperature', unit: 'Cel', symbol: '°C', min: 30, max: 45 },
  { key: 'respiratory-rate', label: 'Respiratory rate', unit: '/min', symbol: '/min', min: 4, max: 80 },
  { key: 'spo2', label: 'Oxygen saturation (SpO2)', unit: '%', symbol: '%', min: 50, max: 100 },
  { key: 'weight', label: 'Weight', unit: 'kg', symbol: 'kg', min: 0.3, max: 350 },
  { key: 'height', label: 'Height', unit: 'cm', symbol: 'cm', min: 25, max: 250 },
  { key: 'bmi', label: 'Body mass index (BMI)', unit: 'kg/m2', symbol: 'kg/m²', min: 8, max: 90 },
  { key: 'muac', label: 'Arm circumference (MUAC)', unit: 'cm', symbol: 'cm', min: 5, max: 50 },
];

/** The vitals typed in a visit: every one but BMI, which is computed from weight and height. */
export const ENTERED_VITALS: readonly VitalDef[] = VITALS.filter((v) => v.key !== 'bmi');

export function vitalDef(key: string): VitalDef | undefined {
  return VITALS.find((v) => v.key === key);
}

/** The unit as people read it: "°C" for "Cel", "kg/m²" for "kg/m2"; unknown units as they are. */
export function unitSymbol(unit: string, vital = ''): string {
  const byKey = vital ? vitalDef(vital) : undefined;
  if (byKey && (unit === '' || unit === byKey.unit || unit === byKey.symbol)) return byKey.symbol;
  const byUnit = VITALS.find((v) => v.unit === unit);
  return byUnit ? byUnit.symbol : unit;
}

/** "38.4 °C", "120 mmHg", "88 /min", "97 %". */
export function formatVital(value: number, unit: string, vital = ''): string {
  const sym = unitSymbol(unit, vital);
  const n = Number.isFinite(value) ? String(Math.round(value * 100) / 100) : '—';
  return sym ? `${n} ${sym}` : n;
}

/**
 * Body mass index from a weight in kg and a height in cm, rounded to one
 * decimal as the backend does (ehr.BMI); null unless both are positive.
 */
export function computeBmi(weightKg: number | null, heightCm: number | null): number | null {
  if (weightKg === null || heightCm === null) return null;
  if (!(weightKg > 0) || !(heightCm > 0) || !Number.isFinite(weightKg) || !Number.isFinite(heightCm)) return null;
  const m = heightCm / 100;
  return Math.round((weightKg / (m * m)) * 10) / 10;
}

/**
 * Reads a number as typed: "38.4", "38,4" (decimal comma), " 120 ".
 * '' gives null (nothing entered); anything else that is not a plain
 * decimal number gives NaN.
 */
export function parseDecimal(s: string): number | null {
  const t = (s ?? '').trim().replace(',', '.');
  if (t === '') return null;
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(t)) return NaN;
  return Number(t);
}

/** The words of a coded or free-text value: its text, else a coding's display, else its code. */
export function conceptText(c: Concept | null | undefined): string {
  if (!c) return '';
  const text = (c.text ?? '').trim();
  if (text) return text;
  for (const cd of c.coding ?? []) {
    if (cd.display?.trim()) return cd.display.trim();
  }
  for (const cd of c.coding ?? []) {
    if (cd.code?.trim()) return cd.code.trim();
  }
  return '';
}

/** A concept of free text only. */
export function textConcept(text: string): Concept {
  const t = text.trim();
  return t ? { text: t } : {};
}

/** "Penicillin (rash, moderate)", "Penicillin (rash)", "Penicillin". */
export function allergyLabel(a: Allergy): string {
  const name = conceptText(a.substance) || 'Unnamed substance';
  const detail = [a.reaction?.trim() ?? '', a.severity ?? ''].filter((s) => s !== '');
  return detail.length ? `${name} (${detail.join(', ')})` : name;
}

/** The active allergies of a summary, in the order given. */
export function activeAllergies(items: ChartItem<Allergy>[]): ChartItem<Allergy>[] {
  return items.filter((it) => it.value.status === 'active');
}

/** "Allergies: Penicillin (rash, moderate); Sulfa (hives)" or "No known allergies recorded". */
export function allergyBannerText(items: ChartItem<Allergy>[]): string {
  const active = activeAllergies(items);
  if (active.length === 0) return 'No known allergies recorded';
  return `Allergies: ${active.map((it) => allergyLabel(it.value)).join('; ')}`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Today's local date as YYYY-MM-DD. */
export function localDate(now: Date = new Date()): string {
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** Now as RFC 3339 (UTC), for the start of a visit or the time of a measurement. */
export function nowRFC3339(now: Date = new Date()): string {
  return now.toISOString();
}

/** "12 Mar 2026" for "2026-03-12"; anything else as it is. */
export function formatDate(date: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec((date ?? '').trim());
  if (!m) return date ?? '';
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (Number.isNaN(d.getTime())) return date;
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' }).format(d);
}

/** Plots on the Vitals tab: blood pressure has two series, the others one. */
export interface PlotDef {
  id: string;
  title: string;
  symbol: string;
  vitals: string[];
  /** Shown even without values. */
  always: boolean;
}

export const PLOTS: readonly PlotDef[] = [
  { id: 'bp', title: 'Blood pressure', symbol: 'mmHg', vitals: ['systolic', 'diastolic'], always: true },
  { id: 'pulse', title: 'Pulse', symbol: '/min', vitals: ['pulse'], always: true },
  { id: 'temperature', title: 'Temperature', symbol: '°C', vitals: ['temperature'], always: true },
  { id: 'weight', title: 'Weight', symbol: 'kg', vitals: ['weight'], always: true },
  { id: 'respiratory-rate', title: 'Respiratory rate', symbol: '/min', vitals: ['respiratory-rate'], always: false },
  { id: 'spo2', title: 'Oxygen saturation (SpO2)', symbol: '%', vitals: ['spo2'], always: false },
  { id: 'height', title: 'Height', symbol: 'cm', vitals: ['height'], always: false },
  { id: 'bmi', title: 'Body mass index (BMI)', symbol: 'kg/m²', vitals: ['bmi'], always: false },
  { id: 'muac', title: 'Mid-upper arm circumference (MUAC)', symbol: 'cm', vitals: ['muac'], always: false },
];

/**
 * Aligns series of points on one time axis, as uPlot wants them:
 * x in Unix seconds, ascending, and one array per series with null where
 * that series has no value at that time. Points with a bad time are left out.
 */
export function alignSeries(series: VitalPoint[][]): { xs: number[]; ys: (number | null)[][] } {
  const times = new Set<number>();
  const maps = series.map((pts) => {
    const m = new Map<number, number>();
    for (const p of pts) {
      const t = Date.parse(p.at);
      if (Number.isNaN(t) || !Number.isFinite(p.value)) continue;
      const s = t / 1000;
      m.set(s, p.value);
      times.add(s);
    }
    return m;
  });
  const xs = [...times].sort((a, b) => a - b);
  return { xs, ys: maps.map((m) => xs.map((x) => (m.has(x) ? (m.get(x) as number) : null))) };
}

/**
 * What of a rejection the form cannot show next to a field: the whole
 * problem when it has no field messages, else the messages of fields the
 * form does not have (such as patientId), or null when every message has
 * its place.
 */
export function leftoverProblem(p: Problem, shown: readonly string[]): Problem | null {
  if (!p.fields) return p;
  const extra = Object.entries(p.fields)
    .filter(([k]) => !shown.includes(k))
    .map(([, m]) => m);
  if (extra.length === 0) return null;
  return { ...p, message: [p.message, ...extra].join('\n') };
}

/** After a refused save: focuses the first of fields (in form order) that has a message, once the DOM shows it. */
export async function focusFirstField(prefix: string, fields: readonly string[], errors: Record<string, string>): Promise<void> {
  await tick();
  const first = fields.find((f) => errors[f]);
  if (first) document.getElementById(`${prefix}${first}`)?.focus();
}

/** Esc cancels a form unless it is saving; the keys reach the form from its fields. */
export function escapeCancels(e: KeyboardEvent, busy: boolean, cancel: () => void): void {
  if (e.key === 'Escape' && !busy) {
    e.preventDefault();
    e.stopPropagation();
    cancel();
  }
}
