// Sync with the clinic server in the UI (docs/sync-app.md): what the status
// bar says, how often it asks, and the conflict helpers (which domain
// fields differ between heads, the merge's choices). Pure functions, no DOM.

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

/** What a person calls a domain field where its name does not say it well. */
const FIELD_LABELS: Record<string, string> = {
  complaint: 'Presenting complaint',
  nationalId: 'National ID',
  clinicNo: 'Clinic number',
  kinName: 'Next of kin',
  kinRelation: 'Next of kin: relation',
  kinPhone: 'Next of kin: phone',
  other: 'Other names',
  amendReason: 'Reason for the amendment',
  sha256: 'Checksum',
  doseNumber: 'Dose number',
};

/** A domain field's label: "plan" → "Plan", "signedBy" → "Signed by", "complaint" → "Presenting complaint". */
export function fieldLabel(name: string): string {
  return FIELD_LABELS[name] ?? memberLabel(name);
}

/** The heads that are not deletions: the ones a merge takes values from. */
export function liveHeads(item: Pick<ConflictItem, 'heads'>): ConflictVersion[] {
  return item.heads.filter((h) => !h.deleted);
}

/** The domain fields whose values are not the same in every head given (a deleted head differs in all). */
export function differingFields(heads: ConflictVersion[], fields: string[]): Set<string> {
  const out = new Set<string>();
  for (const k of fields) {
    const values = new Set(heads.map((h) => (h.deleted ? '\u0000deleted' : (h.values[k] ?? ''))));
    if (values.size > 1) out.add(k);
  }
  return out;
}

/** Fields not shown side by side: the patient is named above the table. */
const HIDDEN_FIELDS = new Set(['patientId']);

/** The domain fields as rows, in the kind's order, differing ones first. */
export function fieldNames(item: Pick<ConflictItem, 'heads' | 'fields'>): string[] {
  const shown = item.fields.filter((k) => !HIDDEN_FIELDS.has(k));
  const differ = differingFields(item.heads, shown);
  return [...shown.filter((k) => differ.has(k)), ...shown.filter((k) => !differ.has(k))];
}

/** A field's value as shown: RFC 3339 times in the local format, anything else as it is. */
export function fieldText(value: string): string {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value) ? formatDateTime(value) : value;
}

export interface MergeField {
  /** The domain field: the key of ResolveRequest.choose. */
  name: string;
  label: string;
  /** Per live head (in the order given): its value as shown. */
  options: { versionId: string; value: string }[];
}

/** The choices of a merge: each domain field whose value differs between the live heads. */
export function mergeFields(item: Pick<ConflictItem, 'heads' | 'fields'>): MergeField[] {
  const live = liveHeads(item);
  const differ = differingFields(live, item.fields);
  return item.fields
    .filter((name) => differ.has(name))
    .map((name) => ({ name, label: fieldLabel(name), options: live.map((h) => ({ versionId: h.versionId, value: h.values[name] ?? '' })) }));
}

/** The fields of a merge still without a choice of a live head. */
export function missingChoices(item: Pick<ConflictItem, 'heads' | 'fields'>, choices: Record<string, string>): string[] {
  const ids = new Set(liveHeads(item).map((h) => h.versionId));
  return mergeFields(item)
    .filter((m) => !ids.has(choices[m.name] ?? ''))
    .map((m) => m.name);
}

/** Keep one head as it is. */
export function keepRequest(item: ConflictItem, versionId: string, reason: string): ResolveRequest {
  return { recordId: item.recordId, heads: item.heads.map((h) => h.versionId), keep: versionId, choose: {}, base: '', body: '', reason };
}

/**
 * Merge the live heads field by field: the first live head is the base,
 * and each differing field takes the chosen head's value (the server does
 * the merge on the record's meaning, then checks it like any change).
 * Throws when a differing field has no choice.
 */
export function mergeRequest(item: ConflictItem, choices: Record<string, string>, reason: string): ResolveRequest {
  const missing = missingChoices(item, choices);
  if (missing.length > 0) throw new Error(`no choice for ${missing.join(', ')}`);
  const choose: Record<string, string> = {};
  for (const m of mergeFields(item)) choose[m.name] = choices[m.name];
  return {
    recordId: item.recordId,
    heads: item.heads.map((h) => h.versionId),
    keep: '',
    choose,
    base: liveHeads(item)[0]?.versionId ?? '',
    body: '',
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
