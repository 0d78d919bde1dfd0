// Sync with the clinic server in the UI (docs/sync-app.md): what the status
// bar says, how often it asks, and the conflict helpers (which fields
// differ between heads, the merged body). Pure functions, no DOM.

import type { ConflictItem, ConflictVersion, JoinProgress, ResolveRequest, SyncState } from './api';
import { formatDateTime, formatTime } from './format';

/** How often the status bar asks while a sync runs, and otherwise (ms). */
export const SYNC_POLL_FAST_MS = 2_000;
export const SYNC_POLL_SLOW_MS = 30_000;
/** How often the join screen asks for its progress (ms). */
export const JOIN_POLL_MS = 1_000;

/** The delay before the next SyncStatus: short while a sync runs. */
export function syncPollDelay(s: Pick<SyncState, 'syncing'> | null, fast = SYNC_POLL_FAST_MS, slow = SYNC_POLL_SLOW_MS): number {
  return s?.syncing ? fast : slow;
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** "Last sync 10:42" today, "Last sync 22 Nov 2026, 10:42" before, "Never synced" without one. */
export function lastSyncText(iso: string, now: Date = new Date()): string {
  if (!iso) return 'Never synced';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return `Last sync ${iso}`;
  return `Last sync ${sameDay(d, now) ? formatTime(iso) : formatDateTime(iso)}`;
}

/** "3 changes waiting", "1 change waiting", "No changes waiting". */
export function pendingText(n: number): string {
  if (!n || n <= 0) return 'No changes waiting';
  return `${n} ${n === 1 ? 'change' : 'changes'} waiting`;
}

/** "2 conflicts", "1 conflict". */
export function conflictsText(n: number): string {
  return `${n} ${n === 1 ? 'conflict' : 'conflicts'}`;
}

const PHASES: Record<string, string> = {
  push: 'Sending changes',
  pull: 'Receiving changes',
  audit: 'Sending the audit trail',
};

/** What a running sync is doing: "Receiving changes: 120 of 600". */
export function syncProgressText(s: Pick<SyncState, 'phase' | 'progressDone' | 'progressTotal'>): string {
  const label = PHASES[s.phase] ?? 'Syncing';
  if (s.progressTotal > 0) {
    const done = Math.min(Math.max(s.progressDone, 0), s.progressTotal);
    return `${label}: ${done} of ${s.progressTotal}`;
  }
  return `${label}…`;
}

// Joining a clinic

const JOIN_PHASES: Record<string, string> = {
  opening: 'Opening the package',
  enrolling: 'Registering this laptop with the clinic server',
  syncing: "Receiving the clinic's records",
  done: 'Done',
  failed: 'Failed',
};

export function joinPhaseText(p: Pick<JoinProgress, 'phase' | 'done' | 'total'>): string {
  const label = JOIN_PHASES[p.phase] ?? 'Starting';
  if (p.phase === 'syncing' && p.total > 0) {
    const done = Math.min(Math.max(p.done, 0), p.total);
    return `${label}: ${done} of ${p.total}`;
  }
  if (p.phase === 'done' || p.phase === 'failed') return label;
  return `${label}…`;
}

/** The join has ended, one way or the other: stop asking. */
export function joinFinished(p: Pick<JoinProgress, 'phase'>): boolean {
  return p.phase === 'done' || p.phase === 'failed';
}

// Conflicts

const KIND_LABELS: Record<string, string> = {
  encounter: 'Visit',
  observation: 'Vital sign',
  condition: 'Problem',
  medication: 'Medication',
  allergy: 'Allergy',
  immunization: 'Immunization',
  note: 'Note',
  document: 'Document',
  patient: 'Patient details',
};

export function kindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? kind;
}

/** "birthDate" → "Birth date"; "kin_name" → "Kin name". */
export function memberLabel(name: string): string {
  const words = name
    .replace(/[_.-]+/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .trim()
    .toLowerCase();
  return words === '' ? name : words.charAt(0).toUpperCase() + words.slice(1);
}

/** A head's body as an object; null when it is not a JSON object (a tombstone, say). */
export function parseBody(body: string): Record<string, unknown> | null {
  if (!body) return null;
  try {
    const v: unknown = JSON.parse(body);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** JSON with every object's keys sorted, no spaces: the same value gives the same text. */
export function canonicalJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJSON(x)).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJSON(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** A member's value as a person reads it: text as it is, a coded concept by its text, '' for nothing. */
export function memberValue(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map((x) => memberValue(x)).join('; ');
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.text === 'string' && o.text !== '') return o.text;
  }
  return canonicalJSON(v);
}

/** The heads that are not deletions: the ones a merge takes values from. */
export function liveHeads(item: Pick<ConflictItem, 'heads'>): ConflictVersion[] {
  return item.heads.filter((h) => !h.deleted && parseBody(h.body) !== null);
}

/** The names of the flattened fields whose values are not the same in every head (a deleted head differs in all). */
export function differingFields(heads: ConflictVersion[]): Set<string> {
  const names = new Set<string>();
  for (const h of heads) for (const k of Object.keys(h.fields)) names.add(k);
  const out = new Set<string>();
  for (const k of names) {
    const values = new Set(heads.map((h) => (h.deleted ? '\u0000deleted' : (h.fields[k] ?? ''))));
    if (values.size > 1) out.add(k);
  }
  return out;
}

/** Fields not shown side by side: the patient is named above the table. */
const HIDDEN_FIELDS = new Set(['patientId']);

/** Every field name of the heads, in the order the first head has them, then the others', differing ones first. */
export function fieldNames(heads: ConflictVersion[]): string[] {
  const seen: string[] = [];
  for (const h of heads) for (const k of Object.keys(h.fields)) if (!seen.includes(k) && !HIDDEN_FIELDS.has(k)) seen.push(k);
  const differ = differingFields(heads);
  return [...seen.filter((k) => differ.has(k)), ...seen.filter((k) => !differ.has(k))];
}

/** A field's value as shown: RFC 3339 times in the local format, anything else as it is. */
export function fieldText(value: string): string {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value) ? formatDateTime(value) : value;
}

export interface MergeMember {
  /** The top-level JSON member of the body. */
  name: string;
  /** What a person calls it: the differing fields it holds, else the member's name. */
  label: string;
  /** The differing human-readable fields (ConflictVersion.fields) this member holds. */
  fields: string[];
  /** Per live head (in the order given): its value as shown, and whether it has the member at all. */
  options: { versionId: string; value: string; present: boolean }[];
}

/** The text a field's value has inside JSON (escaped, without the quotes). */
function inJSON(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/**
 * The top-level members of the bodies that differ between the live heads:
 * the choices of a merge. A body may be shaped otherwise than the fields
 * shown (a FHIR resource: the complaint in reasonCode); a member is named
 * after the differing fields whose values it holds.
 */
export function mergeMembers(heads: ConflictVersion[]): MergeMember[] {
  const bodies = heads.map((h) => parseBody(h.body) ?? {});
  const names: string[] = [];
  for (const b of bodies) for (const k of Object.keys(b)) if (!names.includes(k)) names.push(k);
  const differ = [...differingFields(heads)];
  const out: MergeMember[] = [];
  for (const name of names) {
    const texts = bodies.map((b) => (name in b ? canonicalJSON(b[name]) : '\u0000absent'));
    if (new Set(texts).size < 2) continue;
    const fields = differ.filter((f) =>
      heads.some((h, i) => {
        const v = h.fields[f] ?? '';
        return v !== '' && name in bodies[i] && texts[i].includes(inJSON(v));
      }),
    );
    out.push({
      name,
      label: fields.length > 0 ? fields.map(memberLabel).join(', ') : memberLabel(name),
      fields,
      options: heads.map((h, i) => ({
        versionId: h.versionId,
        value: !(name in bodies[i])
          ? ''
          : fields.length === 1
            ? (h.fields[fields[0]] ?? '')
            : fields.length > 0
              ? fields.map((f) => `${memberLabel(f)}: ${h.fields[f] ?? ''}`).join('\n')
              : memberValue(bodies[i][name]),
        present: name in bodies[i],
      })),
    });
  }
  return out;
}

/**
 * The merged body: the members every live head agrees on, and for each
 * differing member the value of the head chosen for it (left out when that
 * head has no such member). Throws when a differing member has no choice.
 */
export function mergeBody(heads: ConflictVersion[], choices: Record<string, string>): string {
  const bodies = new Map(heads.map((h) => [h.versionId, parseBody(h.body) ?? {}]));
  const first = heads[0] ? (bodies.get(heads[0].versionId) ?? {}) : {};
  const merged: Record<string, unknown> = { ...first };
  for (const m of mergeMembers(heads)) {
    const from = bodies.get(choices[m.name] ?? '');
    if (!from) throw new Error(`no choice for ${m.name}`);
    if (m.name in from) merged[m.name] = from[m.name];
    else delete merged[m.name];
  }
  return canonicalJSON(merged);
}

/** The members of a merge still without a choice. */
export function missingChoices(heads: ConflictVersion[], choices: Record<string, string>): string[] {
  const ids = new Set(heads.map((h) => h.versionId));
  return mergeMembers(heads)
    .filter((m) => !ids.has(choices[m.name] ?? ''))
    .map((m) => m.name);
}

/** Keep one head as it is. */
export function keepRequest(item: ConflictItem, versionId: string, reason: string): ResolveRequest {
  return { recordId: item.recordId, heads: item.heads.map((h) => h.versionId), keep: versionId, body: '', reason };
}

/** Write the merge of the live heads with the choices made. */
export function mergeRequest(item: ConflictItem, choices: Record<string, string>, reason: string): ResolveRequest {
  return {
    recordId: item.recordId,
    heads: item.heads.map((h) => h.versionId),
    keep: '',
    body: mergeBody(liveHeads(item), choices),
    reason,
  };
}

/** The letter a head goes by on screen: A, B, C... */
export function headLetter(i: number): string {
  return String.fromCharCode(65 + (i % 26));
}

// A way for a screen that changed the sync state (a conflict resolved, a
// server connected) to ask the status bar to look again now.
type Listener = () => void;
const listeners = new Set<Listener>();

export function onSyncChanged(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function syncChanged(): void {
  for (const fn of [...listeners]) fn();
}
