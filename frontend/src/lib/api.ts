// Typed wrappers around the Go methods that Wails binds as
// window.go.app.App.<Method>(...). Every rejection is turned into a Problem.

import { updateState, type UpdateSettings, type UpdateState } from './updates';

export type ProblemCode =
  | 'E_VALIDATION'
  | 'E_AUTH'
  | 'E_SESSION'
  | 'E_FORBIDDEN'
  | 'E_NOT_FOUND'
  | 'E_CONFLICT'
  | 'E_KEYRING'
  | 'E_VAULT'
  | 'E_INTERNAL'
  | 'E_LOCKED'
  | 'E_RESTRICTED'
  | 'E_PASSWORD'
  | 'E_MFA'
  | (string & {});

export interface Problem {
  code: ProblemCode;
  message: string;
  incident?: string;
  fields?: Record<string, string>;
}

export type Screen =
  | 'setup'
  | 'unlock'
  | 'login'
  | 'home'
  | 'fatal'
  /** Password accepted; a TOTP or recovery code is due (VerifyMFA). */
  | 'mfa'
  /** Signed in with a temporary password: a new one must be set (ChangePassword). */
  | 'password'
  /** Administrators and security officers must enrol MFA before anything else. */
  | 'enroll'
  /** Session locked (idle or by the user): UnlockSession. */
  | 'locked'
  /** The clinic revoked this laptop and its vault was erased: problem.message says what to do. */
  | 'erased';

/** Screens on which somebody is signed in (fully or part way). */
export const SIGNED_IN_SCREENS: readonly Screen[] = ['home', 'mfa', 'password', 'enroll', 'locked'];

export type Permission =
  | 'patient.read'
  | 'patient.write'
  | 'patient.restrict'
  | 'patient.breakglass'
  | 'users.manage'
  | 'settings.manage'
  | 'alerts.read'
  /** Clinical records (visits, vitals, problems...): clinicians and nurses, not clerks. */
  | 'chart.read'
  | 'chart.write'
  /** Ask for, or approve, the deletion of a record (two different people). */
  | 'record.delete'
  | 'audit.read'
  /** Off-device copies of the audit trail (officers, administrators). */
  | 'audit.manage'
  | (string & {});

export interface User {
  username: string;
  name: string;
  roles: string[];
  permissions: Permission[];
  /** Two-step sign-in (TOTP) is set up for this account. */
  mfaEnabled?: boolean;
}

/** True when the user holds the permission. Missing lists grant nothing. */
export function can(user: User | null | undefined, permission: Permission): boolean {
  return Array.isArray(user?.permissions) && user.permissions.includes(permission);
}

export interface Status {
  screen: Screen;
  clinic: string;
  version: string;
  keyringAvailable: boolean;
  keyringHelp: string;
  notice: string;
  problem?: Problem;
  user?: User;
  /** The UI locks itself after this many minutes without keyboard or mouse activity. */
  idleMinutes: number;
}

export type KeyStore = 'keyring' | 'passphrase';

export interface SetupRequest {
  clinic: string;
  adminUsername: string;
  adminName: string;
  password: string;
  keyStore: KeyStore;
  passphrase: string;
}

export interface SetupResult {
  recoveryKey: string;
}

export interface LoginRequest {
  username: string;
  password: string;
  noticeAccepted: boolean;
}

export interface LoginEvent {
  at: string;
  workstation: string;
}

/** What the UI must do before the home screen. */
export type NextStep = '' | 'mfa' | 'password' | 'enroll';

export interface LoginResult {
  user: User;
  lastLogin?: LoginEvent;
  failedSince: LoginEvent[];
  next: NextStep;
}

export interface ChangePasswordRequest {
  current: string;
  new: string;
}

export interface MFAEnrollment {
  /** Base32 secret. */
  secret: string;
  /** otpauth:// URI with the same secret. */
  uri: string;
}

export interface MFAConfirmation {
  recoveryCodes: string[];
}

export type Sex = '' | 'female' | 'male' | 'other' | 'unknown';

export interface PatientInput {
  family: string;
  given: string;
  other: string;
  sex: Sex;
  birthDate: string;
  ageYears: string;
  nationalId: string;
  phone: string;
  village: string;
  address: string;
  kinName: string;
  kinRelation: string;
  kinPhone: string;
  /** The patient has died; deceasedDate (YYYY-MM-DD) only when deceased. */
  deceased: boolean;
  deceasedDate: string;
}

export interface Patient {
  id: string;
  versionId: string;
  clinicNo: string;
  family: string;
  given: string;
  other: string;
  sex: string;
  birthDate: string;
  birthEstimated: boolean;
  age: string;
  nationalId: string;
  phone: string;
  village: string;
  address: string;
  kinName: string;
  kinRelation: string;
  kinPhone: string;
  updatedAt: string;
  updatedBy: string;
  restricted: boolean;
  deceased?: boolean;
  deceasedDate?: string;
}

export type MatchKind = 'name' | 'phonetic' | 'clinic number' | 'national id' | 'birth year' | (string & {});

export interface PatientHit {
  id: string;
  clinicNo: string;
  family: string;
  given: string;
  other: string;
  sex: string;
  birthDate: string;
  birthEstimated: boolean;
  age: string;
  village: string;
  match: MatchKind;
  restricted: boolean;
}

export interface Change {
  field: string;
  label: string;
  old: string;
  new: string;
}

export interface Version {
  versionId: string;
  at: string;
  author: string;
  device: string;
  reason: string;
  changes: Change[];
  patient: Patient;
}

export interface UpdateRequest {
  id: string;
  baseVersionId: string;
  patient: PatientInput;
  reason: string;
}

export type FieldErrors = Record<string, string>;

export interface BreakGlassRequest {
  patientId: string;
  reason: string;
}

export interface BreakGlassResult {
  /** RFC 3339: the emergency access ends then. */
  until: string;
}

export interface RestrictRequest {
  id: string;
  restricted: boolean;
  reason: string;
}

export type Role = 'clinician' | 'nurse' | 'clerk' | 'administrator' | 'officer' | 'auditor';

export const ROLES: readonly Role[] = ['clinician', 'nurse', 'clerk', 'administrator', 'officer', 'auditor'];

export type DisabledReason = '' | 'inactive' | 'admin' | 'deleted';

export interface UserInfo {
  id: string;
  username: string;
  name: string;
  roles: string[];
  disabled: boolean;
  disabledReason: DisabledReason;
  /** RFC 3339 or ''. */
  lockedUntil: string;
  mfaEnabled: boolean;
  /** RFC 3339 or ''. */
  lastLogin: string;
  temporaryPassword: boolean;
  created: string;
}

export interface CreateUserRequest {
  username: string;
  name: string;
  roles: string[];
  temporaryPassword: string;
}

export interface SetRolesRequest {
  id: string;
  roles: string[];
}

export interface ResetPasswordRequest {
  id: string;
  temporaryPassword: string;
}

export interface DeletionRequestInput {
  id: string;
  reason: string;
}

export interface DeletionRequest {
  id: string;
  userId: string;
  username: string;
  requestedBy: string;
  reason: string;
  at: string;
}

export interface Settings {
  notice: string;
  idleMinutes: number;
  adminIdleMinutes: number;
  absoluteHours: number;
  /** How long audit events are kept before they may be purged (7 to 75). */
  auditRetentionYears: number;
}

export interface Alert {
  id: string;
  at: string;
  kind: string;
  message: string;
  username: string;
  acknowledged: boolean;
}

/** A row's status in the security report (docs/security-report.md). */
export type SecurityStatus = 'ok' | 'warn' | 'fail' | 'info' | 'n/a';

/** One requirement (S1 … S35, P1 … P7) with its live status and evidence. */
export interface SecurityRow {
  id: string;
  title: string;
  status: SecurityStatus | (string & {});
  evidence: string[] | null;
}

/** The live security report of this installation (administrators, security officers). */
export interface SecurityReport {
  at: string;
  clinic: string;
  device: string;
  version: string;
  rows: SecurityRow[];
  counts: Record<string, number> | null;
  openAlerts: Record<string, number> | null;
}

// ---------------------------------------------------------------------------
// The chart: clinical records of a patient (chart.read / chart.write).

export const SYSTEM_ICD10 = 'http://hl7.org/fhir/sid/icd-10';
export const SYSTEM_SNOMED = 'http://snomed.info/sct';
export const SYSTEM_LOINC = 'http://loinc.org';
export const SYSTEM_CVX = 'http://hl7.org/fhir/sid/cvx';
export const SYSTEM_RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';

export interface Coding {
  system: string;
  code: string;
  display: string;
}

/** Free text, codes, or both. */
export interface Concept {
  coding?: Coding[];
  text?: string;
}

export type EncounterStatus = 'open' | 'signed';

export interface Encounter {
  patientId: string;
  status: EncounterStatus;
  /** RFC 3339. */
  start: string;
  /** RFC 3339 or ''. */
  end: string;
  complaint: string;
  findings: string;
  assessment: string;
  plan: string;
  signedBy: string;
  signedAt: string;
  amendReason: string;
}

export interface Observation {
  patientId: string;
  encounterId: string;
  /** A vital key: systolic, diastolic, pulse, temperature, respiratory-rate, spo2, weight, height, bmi, muac. */
  vital: string;
  value: number;
  /** UCUM; '' lets the backend fill in the vital's unit. */
  unit: string;
  /** RFC 3339. */
  effective: string;
}

export type ConditionStatus = 'active' | 'resolved' | 'inactive';

export interface Condition {
  patientId: string;
  code: Concept;
  status: ConditionStatus;
  /** YYYY-MM-DD or ''. */
  onset: string;
  note: string;
}

export type MedicationKind = 'prescribed' | 'reported';
export type MedicationStatus = 'active' | 'stopped' | 'completed';

export interface Medication {
  patientId: string;
  encounterId: string;
  kind: MedicationKind;
  drug: Concept;
  dose: string;
  route: string;
  frequency: string;
  duration: string;
  status: MedicationStatus;
  /** YYYY-MM-DD or ''. */
  start: string;
  note: string;
}

export type AllergySeverity = '' | 'mild' | 'moderate' | 'severe';

export interface Allergy {
  patientId: string;
  substance: Concept;
  reaction: string;
  /** Needs a reaction. */
  severity: AllergySeverity;
  status: 'active' | 'inactive';
}

export interface Immunization {
  patientId: string;
  vaccine: Concept;
  /** YYYY-MM-DD. */
  date: string;
  /** 1-20; 0 when not known. */
  doseNumber: number;
  lot: string;
  site: string;
  status: 'completed' | 'not-done';
}

export interface Note {
  patientId: string;
  encounterId: string;
  title: string;
  text: string;
}

/** One clinical record at its current version. */
export interface ChartItem<T> {
  id: string;
  versionId: string;
  /** RFC 3339: when this version was written. */
  at: string;
  author: string;
  value: T;
}

/** A new record when id is '', else a new version of id made from baseVersionId, with a reason. */
export interface SaveRequest<T> {
  id: string;
  baseVersionId: string;
  /** Required when updating. */
  reason: string;
  value: T;
}

export interface MedicationRequest extends SaveRequest<Medication> {
  /** Prescribe although the drug matches an active allergy (audited with the reason). */
  override: boolean;
}

/** The saved medication, or (saved absent) the active allergies that stopped it. */
export interface MedicationResult {
  saved?: ChartItem<Medication>;
  warnings: Allergy[];
}

export interface SignRequest {
  id: string;
  baseVersionId: string;
}

export interface ChartView {
  problems: ChartItem<Condition>[];
  medications: ChartItem<Medication>[];
  allergies: ChartItem<Allergy>[];
  /** The latest value of each vital sign. */
  vitals: ChartItem<Observation>[];
  immunizations: ChartItem<Immunization>[];
  /** The 10 most recent visits. */
  visits: ChartItem<Encounter>[];
  /** The 10 most recent notes. */
  notes: ChartItem<Note>[];
}

/** A visit with everything recorded at it. */
export interface VisitView {
  visit: ChartItem<Encounter>;
  /** Oldest first. */
  vitals: ChartItem<Observation>[];
  /** Prescribed or reported at the visit, in any status. */
  medications: ChartItem<Medication>[];
  notes: ChartItem<Note>[];
}

export interface SeriesRequest {
  patientId: string;
  vital: string;
}

export interface VitalPoint {
  /** RFC 3339. */
  at: string;
  value: number;
  unit: string;
}

/** A stored document: PDF, PNG or JPEG, recognised by content; bytes kept apart in the vault. */
export interface DocumentInfo {
  patientId: string;
  title: string;
  contentType: 'application/pdf' | 'image/png' | 'image/jpeg' | (string & {});
  size: number;
  sha256: string;
  created: string;
}

export interface DocumentUpload {
  patientId: string;
  title: string;
  /** The file's bytes, base64. Its name is never sent: the type comes from the content. */
  data: string;
}

export interface DocumentContent {
  document: DocumentInfo;
  /** base64 */
  data: string;
}

/** Where a copy was saved through the save dialog; name '' when the user cancelled. */
export interface SavedFile {
  name: string;
}

// Sync with the clinic server (docs/sync-app.md). Dates are RFC 3339, '' when none.

/** The laptop's sync state: public fields only, no patient data. */
export interface SyncState {
  /** This laptop is registered with a clinic server. */
  enrolled: boolean;
  /** https://host:port ('' when not enrolled). */
  server: string;
  /** The pinned certificate's SHA-256, "AB:CD:...". */
  fingerprint: string;
  deviceId: string;
  deviceName: string;
  /** The last attempt reached the server. */
  online: boolean;
  /** A sync is running now. */
  syncing: boolean;
  /** '' | 'push' | 'pull' | 'audit' while syncing. */
  phase: string;
  /** Versions applied in this pull. */
  progressDone: number;
  /** Versions the server holds for this pull (0: unknown). */
  progressTotal: number;
  lastSync: string;
  lastAttempt: string;
  nextAttempt: string;
  /** Plain message of the last failure ('' after a success). */
  lastError: string;
  lastErrorCode: string;
  /** Versions waiting in the outbox. */
  pending: number;
  /** Records with more than one head (clinical kinds only). */
  conflicts: number;
  /** When the server last acknowledged this laptop's audit trail. */
  auditShippedAt: string;
}

export interface ConnectRequest {
  server: string;
  fingerprint: string;
  token: string;
  deviceName: string;
}

export interface EnrollmentPackageRequest {
  token: string;
  laptopName: string;
}

/** The one-time code is shown once; the package went through the save dialog. */
export interface EnrollmentPackage {
  code: string;
  saved: SavedFile;
}

export interface JoinRequest {
  /** base64 of the package file the user picked. */
  package: string;
  /** The one-time code, any case, dashes optional. */
  code: string;
  deviceName: string;
  keyStore: KeyStore;
  /** When keyStore is 'passphrase'. */
  passphrase: string;
}

export type JoinPhase = 'opening' | 'enrolling' | 'syncing' | 'done' | 'failed' | (string & {});

export interface JoinProgress {
  phase: JoinPhase;
  done: number;
  total: number;
  /** The clinic's name from the package. */
  clinic: string;
  /** Shown once when phase is 'done'. */
  recoveryKey: string;
  /** When phase is 'failed': nothing was kept, try again. */
  problem?: Problem;
}

export interface ConflictVersion {
  versionId: string;
  author: string;
  device: string;
  at: string;
  deleted: boolean;
  reason: string;
  /** Canonical JSON of this head. */
  body: string;
  /** Flattened, human-readable fields (as record history shows them). */
  fields: Record<string, string>;
  /** The record's domain fields (ConflictItem.fields) as text: what a merge chooses by. */
  values: Record<string, string>;
}

export interface ConflictItem {
  recordId: string;
  kind: string;
  patientId: string;
  patientName: string;
  /** The kind's domain fields in its order: the keys of every head's values. */
  fields: string[];
  /** Two or more. */
  heads: ConflictVersion[];
}

export interface ResolveRequest {
  recordId: string;
  /** The head version ids the user saw: refused if they changed meanwhile. */
  heads: string[];
  /** A head's versionId to keep as it is, or '' for a merge. */
  keep: string;
  /** A merge field by field: domain field name → the head whose value is kept. */
  choose: Record<string, string>;
  /** The head the merge starts from ('' for the newest). */
  base: string;
  /** A merged canonical JSON body (the older way to merge); '' otherwise. */
  body: string;
  reason: string;
}

export interface FHIRUpload {
  /** The file's name, shown only. */
  name: string;
  /** base64 */
  data: string;
}

export interface ImportCount {
  type: string;
  imported: number;
  present: number;
  skipped: number;
}

export interface ImportSkip {
  type: string;
  id: string;
  reason: string;
}

/** A FHIR import running in the background: progress, then its report. */
export interface ImportJob {
  id: string;
  name: string;
  /** Entries processed so far. */
  done: number;
  /** Entries in the Bundle; 0 until it has been read. */
  total: number;
  finished: boolean;
  counts: ImportCount[];
  totals: ImportCount;
  /** Why resources were skipped (other than types Outpost does not keep). */
  skips: ImportSkip[];
  problem?: Problem;
}

/** A record (patient or clinical) and the reason for acting on it. */
export interface RecordAction {
  id: string;
  reason: string;
}

/** A record deletion waiting for a second person's approval, or a deleted record. */
export interface RecordDeletion {
  id: string;
  recordId: string;
  /** patient, encounter, observation, condition, medication, allergy, immunization, note, document */
  kind: string;
  /** What the record is, e.g. "Problem: Asthma". */
  label: string;
  patientId: string;
  /** The patient's name and clinic number. */
  patient: string;
  requestedBy: string;
  reason: string;
  at: string;
  /** Deleted records only: who approved, and when. */
  approvedBy?: string;
  approvedAt?: string;
}

/** One version of any record with what changed. */
export interface RecordVersion {
  versionId: string;
  kind: string;
  at: string;
  author: string;
  device: string;
  reason: string;
  deleted: boolean;
  changes: Change[];
}

// ---------------------------------------------------------------------------
// The audit trail (audit.read: security officer and auditor).

/** Columns the audit trail sorts by; 'seq' and 'at' are the same order (the chain's). */
export type AuditSort = 'seq' | 'at' | 'username' | 'action' | 'outcome' | 'patient' | 'workstation';
export type AuditOutcome = 'success' | 'failure' | 'denied' | (string & {});

/** The viewer's filter; empty members select everything. */
export interface AuditFilter {
  /** YYYY-MM-DD (this computer's time zone) or RFC 3339; inclusive. */
  from: string;
  /** YYYY-MM-DD (the whole day) or RFC 3339 (that whole second); inclusive. */
  to: string;
  username: string;
  patientId: string;
  /** Exact, or a prefix ending in "*" ("patient.*"). */
  action: string;
  outcome: '' | AuditOutcome;
  /** '' is 'seq'. */
  sort: '' | AuditSort;
  desc: boolean;
  /** 0: 100 events; at most 1000. */
  limit: number;
  offset: number;
}

/** One audit event with every member; no patient data beyond ids. */
export interface AuditEntry {
  seq: number;
  /** RFC 3339 UTC. */
  at: string;
  username: string;
  roles: string[];
  action: string;
  outcome: AuditOutcome;
  patientId: string;
  recordId: string;
  device: string;
  workstation: string;
  osUser: string;
  addresses: string[];
  session: string;
  /** Break-glass reason as typed. */
  reason: string;
  onBehalfOf: string;
  detail: string;
  prevHash: string;
  hash: string;
}

export interface AuditPage {
  events: AuditEntry[];
  /** How many events the filter selects in all. */
  total: number;
  offset: number;
  limit: number;
}

/** Every event the filter selects (its limit and offset are ignored), as CSV or FHIR R4 AuditEvent NDJSON. */
export interface AuditExportRequest {
  format: 'csv' | 'fhir';
  filter: AuditFilter;
}

/** The audit trail off this laptop. */
export interface AuditShipping {
  /** The newest checkpoint confirmed off the laptop; 0 when never. */
  acknowledgedSeq: number;
  acknowledgedAt: string;
  checkpointAt: string;
  latestSeq: number;
  /** Days since the confirmed checkpoint (else since the first event). */
  days: number;
  /** More than 7 days. */
  overdue: boolean;
}

const list = <T>(v: T[] | null | undefined): T[] => (Array.isArray(v) ? v : []);

function importJob(j: Partial<ImportJob> | null | undefined): ImportJob {
  const zero: ImportCount = { type: 'all', imported: 0, present: 0, skipped: 0 };
  const out: ImportJob = {
    id: j?.id ?? '',
    name: j?.name ?? '',
    done: j?.done ?? 0,
    total: j?.total ?? 0,
    finished: !!j?.finished,
    counts: list(j?.counts),
    totals: j?.totals ?? zero,
    skips: list(j?.skips),
  };
  if (j?.problem) out.problem = normalizeProblem(j.problem);
  return out;
}

function syncState(s: Partial<SyncState> | null | undefined): SyncState {
  return {
    enrolled: !!s?.enrolled,
    server: s?.server ?? '',
    fingerprint: s?.fingerprint ?? '',
    deviceId: s?.deviceId ?? '',
    deviceName: s?.deviceName ?? '',
    online: !!s?.online,
    syncing: !!s?.syncing,
    phase: s?.phase ?? '',
    progressDone: s?.progressDone ?? 0,
    progressTotal: s?.progressTotal ?? 0,
    lastSync: s?.lastSync ?? '',
    lastAttempt: s?.lastAttempt ?? '',
    nextAttempt: s?.nextAttempt ?? '',
    lastError: s?.lastError ?? '',
    lastErrorCode: s?.lastErrorCode ?? '',
    pending: s?.pending ?? 0,
    conflicts: s?.conflicts ?? 0,
    auditShippedAt: s?.auditShippedAt ?? '',
  };
}

function joinProgress(j: Partial<JoinProgress> | null | undefined): JoinProgress {
  const out: JoinProgress = {
    phase: j?.phase ?? '',
    done: j?.done ?? 0,
    total: j?.total ?? 0,
    clinic: j?.clinic ?? '',
    recoveryKey: j?.recoveryKey ?? '',
  };
  if (j?.problem) out.problem = normalizeProblem(j.problem);
  return out;
}

function conflictItems(list: Partial<ConflictItem>[] | null | undefined): ConflictItem[] {
  return (list ?? []).map((c) => ({
    recordId: c.recordId ?? '',
    kind: c.kind ?? '',
    patientId: c.patientId ?? '',
    patientName: c.patientName ?? '',
    fields: c.fields ?? [],
    heads: (c.heads ?? []).map((h) => ({
      versionId: h.versionId ?? '',
      author: h.author ?? '',
      device: h.device ?? '',
      at: h.at ?? '',
      deleted: !!h.deleted,
      reason: h.reason ?? '',
      body: h.body ?? '',
      fields: h.fields ?? {},
      values: h.values ?? {},
    })),
  }));
}

function auditPage(p: Partial<AuditPage> | null | undefined): AuditPage {
  return {
    events: list(p?.events).map((e) => ({ ...e, roles: list(e.roles), addresses: list(e.addresses) })),
    total: p?.total ?? 0,
    offset: p?.offset ?? 0,
    limit: p?.limit ?? 0,
  };
}

function chartView(v: Partial<ChartView> | null | undefined): ChartView {
  return {
    problems: list(v?.problems),
    medications: list(v?.medications),
    allergies: list(v?.allergies),
    vitals: list(v?.vitals),
    immunizations: list(v?.immunizations),
    visits: list(v?.visits),
    notes: list(v?.notes),
  };
}

export const GENERIC_MESSAGE = 'Something went wrong.';

/** Thrown by every wrapper below; carries a normalised Problem. */
export class ProblemError extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.message);
    this.name = 'ProblemError';
    this.problem = problem;
  }
}

function unknownProblem(): Problem {
  return { code: 'E_INTERNAL', message: GENERIC_MESSAGE };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringFields(v: unknown): Record<string, string> | undefined {
  if (!isRecord(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val === 'string' && val !== '') out[k] = val;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Builds a clean Problem from a plain object if it looks like one, else null. */
function fromObject(o: Record<string, unknown>): Problem | null {
  if (typeof o.code !== 'string' || o.code.trim() === '') return null;
  const code = o.code.trim();
  const message = typeof o.message === 'string' && o.message.trim() !== '' ? o.message : GENERIC_MESSAGE;
  const p: Problem = { code, message };
  if (typeof o.incident === 'string' && o.incident !== '') p.incident = o.incident;
  const fields = stringFields(o.fields);
  if (fields) p.fields = fields;
  return p;
}

function fromString(s: string): Problem | null {
  const t = s.trim();
  if (!t.startsWith('{')) return null;
  try {
    const parsed: unknown = JSON.parse(t);
    return isRecord(parsed) ? fromObject(parsed) : null;
  } catch {
    return null;
  }
}

/**
 * Turns whatever a rejected binding call produced into a Problem:
 * a Problem-like object, a JSON string of one, an Error whose message is
 * such a JSON string, or a ProblemError. Anything else is reported as
 * E_INTERNAL with a generic message so that no raw detail reaches the screen.
 */
export function normalizeProblem(err: unknown): Problem {
  if (err instanceof ProblemError) return err.problem;
  if (typeof err === 'string') return fromString(err) ?? unknownProblem();
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return fromString(err.message) ?? (isRecord(cause) ? fromObject(cause) : null) ?? unknownProblem();
  }
  if (isRecord(err)) {
    const direct = fromObject(err);
    if (direct) return direct;
    // Some runtimes wrap the payload: {error: ...} or {message: "<json>"}.
    if ('error' in err && err.error !== err) return normalizeProblem(err.error);
    if (typeof err.message === 'string') return fromString(err.message) ?? unknownProblem();
  }
  return unknownProblem();
}

export function problemOf(err: unknown): Problem {
  return normalizeProblem(err);
}

// ---------------------------------------------------------------------------
// Binding access

type Binding = Record<string, (...args: unknown[]) => Promise<unknown>>;

interface GoWindow {
  go?: { app?: { App?: Binding } };
}

function currentBinding(): Binding | undefined {
  return (globalThis as unknown as GoWindow).go?.app?.App;
}

let bindingWaitMs = 10_000;

/** For tests: how long to wait for window.go to appear. */
export function setBindingWait(ms: number): void {
  bindingWaitMs = ms;
}

async function binding(): Promise<Binding> {
  const b = currentBinding();
  if (b) return b;
  // The Wails runtime scripts normally run before this bundle; wait a little
  // in case they are late.
  const deadline = Date.now() + bindingWaitMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    const later = currentBinding();
    if (later) return later;
  }
  throw new ProblemError({
    code: 'E_INTERNAL',
    message: 'The application backend is not available. Close Outpost and start it again.',
  });
}

type ProblemListener = (p: Problem) => void;
const listeners = new Map<string, ProblemListener>();

/**
 * Registers the handler called whenever any call fails with this code
 * (one handler per code; null removes it). Used for the codes that change
 * the screen: E_SESSION, E_LOCKED, E_PASSWORD, E_MFA.
 */
export function onProblem(code: ProblemCode, fn: ProblemListener | null): void {
  if (fn) listeners.set(code, fn);
  else listeners.delete(code);
}

/** Registers the handler called whenever a call fails with E_SESSION. */
export function onSessionEnded(fn: ProblemListener | null): void {
  onProblem('E_SESSION', fn);
}

/** Registers the handler called whenever a call fails with E_LOCKED. */
export function onSessionLocked(fn: ProblemListener | null): void {
  onProblem('E_LOCKED', fn);
}

async function call<T>(method: string, ...args: unknown[]): Promise<T> {
  const b = await binding();
  const fn = b[method];
  if (typeof fn !== 'function') {
    throw new ProblemError({ code: 'E_INTERNAL', message: GENERIC_MESSAGE });
  }
  try {
    return (await fn(...args)) as T;
  } catch (err) {
    const p = normalizeProblem(err);
    const listener = listeners.get(p.code);
    if (listener) listener(p);
    throw new ProblemError(p);
  }
}

export const api = {
  status: () => call<Status>('Status'),
  setup: (req: SetupRequest) => call<SetupResult>('Setup', req),
  unlock: (passphrase: string) => call<void>('Unlock', passphrase),
  login: (req: LoginRequest) => call<LoginResult>('Login', req),
  logout: () => call<void>('Logout'),
  validatePatient: async (p: PatientInput) => (await call<FieldErrors | null>('ValidatePatient', p)) ?? {},
  registerPatient: (p: PatientInput) => call<Patient>('RegisterPatient', p),
  updatePatient: (req: UpdateRequest) => call<Patient>('UpdatePatient', req),
  getPatient: (id: string) => call<Patient>('GetPatient', id),
  patientHistory: async (id: string) => (await call<Version[] | null>('PatientHistory', id)) ?? [],
  searchPatients: async (query: string) => (await call<PatientHit[] | null>('SearchPatients', query)) ?? [],
  uiReady: (screen: string) => call<void>('UIReady', screen),

  // Sign-in steps and session
  verifyMFA: (code: string) => call<LoginResult>('VerifyMFA', code),
  changePassword: (req: ChangePasswordRequest) => call<void>('ChangePassword', req),
  lockSession: () => call<void>('LockSession'),
  keepAlive: () => call<void>('KeepAlive'),
  unlockSession: (password: string) => call<void>('UnlockSession', password),
  beginMFAEnrollment: () => call<MFAEnrollment>('BeginMFAEnrollment'),
  confirmMFAEnrollment: async (code: string) => {
    const r = await call<MFAConfirmation | null>('ConfirmMFAEnrollment', code);
    return { recoveryCodes: r?.recoveryCodes ?? [] };
  },

  // Restricted charts
  breakGlass: (req: BreakGlassRequest) => call<BreakGlassResult>('BreakGlass', req),
  setPatientRestricted: (req: RestrictRequest) => call<Patient>('SetPatientRestricted', req),

  // Administration
  listUsers: async () => (await call<UserInfo[] | null>('ListUsers')) ?? [],
  createUser: (req: CreateUserRequest) => call<UserInfo>('CreateUser', req),
  setUserRoles: (req: SetRolesRequest) => call<UserInfo>('SetUserRoles', req),
  disableUser: (id: string) => call<UserInfo>('DisableUser', id),
  enableUser: (id: string) => call<UserInfo>('EnableUser', id),
  unlockUser: (id: string) => call<UserInfo>('UnlockUser', id),
  resetMFA: (id: string) => call<UserInfo>('ResetMFA', id),
  resetPassword: (req: ResetPasswordRequest) => call<UserInfo>('ResetPassword', req),
  requestUserDeletion: (req: DeletionRequestInput) => call<DeletionRequest>('RequestUserDeletion', req),
  listDeletionRequests: async () => (await call<DeletionRequest[] | null>('ListDeletionRequests')) ?? [],
  approveUserDeletion: (requestId: string) => call<void>('ApproveUserDeletion', requestId),
  getSettings: () => call<Settings>('GetSettings'),
  saveSettings: (s: Settings) => call<Settings>('SaveSettings', s),

  // Security alerts
  listAlerts: async () => (await call<Alert[] | null>('ListAlerts')) ?? [],
  acknowledgeAlert: (id: string) => call<void>('AcknowledgeAlert', id),
  securityReport: () => call<SecurityReport>('SecurityReport'),

  // The chart
  chartSummary: async (patientId: string) => chartView(await call<Partial<ChartView> | null>('ChartSummary', patientId)),
  saveEncounter: (req: SaveRequest<Encounter>) => call<ChartItem<Encounter>>('SaveEncounter', req),
  signEncounter: (req: SignRequest) => call<ChartItem<Encounter>>('SignEncounter', req),
  saveObservation: (req: SaveRequest<Observation>) => call<ChartItem<Observation>>('SaveObservation', req),
  saveCondition: (req: SaveRequest<Condition>) => call<ChartItem<Condition>>('SaveCondition', req),
  saveAllergy: (req: SaveRequest<Allergy>) => call<ChartItem<Allergy>>('SaveAllergy', req),
  saveImmunization: (req: SaveRequest<Immunization>) => call<ChartItem<Immunization>>('SaveImmunization', req),
  saveNote: (req: SaveRequest<Note>) => call<ChartItem<Note>>('SaveNote', req),
  saveMedication: async (req: MedicationRequest): Promise<MedicationResult> => {
    const r = await call<Partial<MedicationResult> | null>('SaveMedication', req);
    const out: MedicationResult = { warnings: list(r?.warnings) };
    if (r?.saved) out.saved = r.saved;
    return out;
  },
  vitalSeries: async (req: SeriesRequest) => list(await call<VitalPoint[] | null>('VitalSeries', req)),
  visitRecords: async (encounterId: string): Promise<VisitView> => {
    const v = await call<Partial<VisitView> | null>('VisitRecords', encounterId);
    if (!v?.visit) throw new ProblemError({ code: 'E_NOT_FOUND', message: 'No such visit.' });
    return { visit: v.visit, vitals: list(v.vitals), medications: list(v.medications), notes: list(v.notes) };
  },
  getAuditShipping: () => call<AuditShipping>('GetAuditShipping'),
  /** Seals the whole chain under a passphrase and opens the save dialog. */
  saveSealedAuditCopy: (passphrase: string) => call<SavedFile>('SaveSealedAuditCopy', { passphrase }),
  /** A sealed copy read back from the media it was saved to. */
  confirmAuditCopy: (data: string, passphrase: string) => call<AuditShipping>('ConfirmAuditCopy', { data, passphrase }),
  recordHistory: async (id: string) => list(await call<RecordVersion[] | null>('RecordHistory', id)),

  // Deleting needs two people: one asks, another approves (record.delete)
  requestRecordDeletion: (req: RecordAction) => call<RecordDeletion>('RequestRecordDeletion', req),
  listRecordDeletions: async () => list(await call<RecordDeletion[] | null>('ListRecordDeletions')),
  approveRecordDeletion: (requestId: string) => call<void>('ApproveRecordDeletion', requestId),
  listDeletedRecords: async () => list(await call<RecordDeletion[] | null>('ListDeletedRecords')),
  restoreRecord: (req: RecordAction) => call<void>('RestoreRecord', req),

  // Documents, printing, FHIR
  addDocument: (req: DocumentUpload) => call<ChartItem<DocumentInfo>>('AddDocument', req),
  listDocuments: async (patientId: string) => list(await call<ChartItem<DocumentInfo>[] | null>('ListDocuments', patientId)),
  getDocument: (id: string) => call<DocumentContent>('GetDocument', id),
  /** Opens the save dialog; the copy outside the vault is audited. */
  saveDocument: (id: string) => call<SavedFile>('SaveDocument', id),
  saveSummaryPDF: (patientId: string) => call<SavedFile>('SaveSummaryPDF', patientId),
  /** One patient's chart, or every chart with patientId ''. */
  exportFHIR: (patientId: string) => call<SavedFile>('ExportFHIR', patientId),
  startFHIRImport: async (req: FHIRUpload) => importJob(await call<Partial<ImportJob> | null>('StartFHIRImport', req)),
  fhirImportStatus: async (id: string) => importJob(await call<Partial<ImportJob> | null>('FHIRImportStatus', id)),

  // The audit trail (audit.read)
  listAudit: async (f: AuditFilter) => auditPage(await call<Partial<AuditPage> | null>('ListAudit', f)),
  /** Opens the save dialog; the copy outside the vault is audited. */
  saveAuditExport: (req: AuditExportRequest) => call<SavedFile>('SaveAuditExport', req),

  // Retention and purge of the audit trail (audit.manage): one asks, another approves
  listAuditPurges: async () => auditPurges(await call<Partial<AuditPurges> | null>('ListAuditPurges')),
  /** Asks for the events old enough (and copied off the laptop) to be purged; returns what would go. */
  requestAuditPurge: (reason: string) => call<AuditPurgeRequest>('RequestAuditPurge', { reason }),
  approveAuditPurge: (requestId: string) => call<AuditPurgeResult>('ApproveAuditPurge', requestId),

  // Sync with the clinic server (docs/sync-app.md)
  syncStatus: async () => syncState(await call<Partial<SyncState> | null>('SyncStatus')),
  /** Starts a sync in the background unless one runs; returns at once. */
  syncNow: async () => syncState(await call<Partial<SyncState> | null>('SyncNow')),
  connectServer: async (req: ConnectRequest) => syncState(await call<Partial<SyncState> | null>('ConnectServer', req)),
  /** Seals the package under a fresh one-time code and opens the save dialog. */
  createEnrollmentPackage: async (req: EnrollmentPackageRequest): Promise<EnrollmentPackage> => {
    const r = await call<Partial<EnrollmentPackage> | null>('CreateEnrollmentPackage', req);
    return { code: r?.code ?? '', saved: { name: r?.saved?.name ?? '' } };
  },
  joinClinic: async (req: JoinRequest) => joinProgress(await call<Partial<JoinProgress> | null>('JoinClinic', req)),
  joinStatus: async () => joinProgress(await call<Partial<JoinProgress> | null>('JoinStatus')),
  /** Every conflict the user may see (patientId ''), or one patient's. */
  listConflicts: async (patientId: string) => conflictItems(await call<Partial<ConflictItem>[] | null>('ListConflicts', patientId)),
  resolveConflict: (req: ResolveRequest) => call<void>('ResolveConflict', req),

  // Signed updates (docs/updates.md): any user reads the state; administrators check, install and configure
  updateStatus: async () => updateState(await call<Partial<UpdateState> | null>('UpdateStatus')),
  checkForUpdates: async () => updateState(await call<Partial<UpdateState> | null>('CheckForUpdates')),
  /** Installs the release the last check found; Outpost must then be restarted. */
  installUpdate: async (version: string) => updateState(await call<Partial<UpdateState> | null>('InstallUpdate', version)),
  setUpdateSettings: async (s: UpdateSettings) => updateState(await call<Partial<UpdateState> | null>('SetUpdateSettings', s)),
};

export type Api = typeof api;

/** A run of events at the front of the audit trail; events 0: none. */
export interface AuditPurgeRange {
  events: number;
  from: number;
  through: number;
  oldest: string;
  newest: string;
}

/** A purge waiting for a second person; mine: asked by the signed-in user, who may not approve it. */
export interface AuditPurgeRequest extends AuditPurgeRange {
  id: string;
  requestedBy: string;
  reason: string;
  at: string;
  mine: boolean;
}

export interface AuditPurges {
  retentionYears: number;
  /** Events written before this are old enough. */
  cutoff: string;
  /** Events 1 to purgedThrough were purged; 0: none yet. */
  purgedThrough: number;
  purgedAt: string;
  eligible: AuditPurgeRange;
  /** Why nothing may be purged now, when eligible.events is 0. */
  notEligible: string;
  pending: AuditPurgeRequest[];
}

export interface AuditPurgeResult extends AuditPurgeRange {
  /** The last purged event's hash: the chain continues from it. */
  anchorHash: string;
}

const noEvents: AuditPurgeRange = { events: 0, from: 0, through: 0, oldest: '', newest: '' };

function auditPurges(p: Partial<AuditPurges> | null): AuditPurges {
  return {
    retentionYears: p?.retentionYears ?? 0,
    cutoff: p?.cutoff ?? '',
    purgedThrough: p?.purgedThrough ?? 0,
    purgedAt: p?.purgedAt ?? '',
    eligible: p?.eligible ?? noEvents,
    notEligible: p?.notEligible ?? '',
    pending: list(p?.pending),
  };
}
