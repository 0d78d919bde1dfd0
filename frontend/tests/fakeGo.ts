// A fake of the Wails bindings (window.go.app.App), for unit tests only.
import { vi, type Mock } from 'vitest';
import type { Allergy, AuditEntry, SyncState, ChartItem, ChartView, Encounter, Patient, Status, User, UserInfo } from '../src/lib/api';

export type FakeApp = Record<string, Mock<(...args: any[]) => Promise<any>>>;

export const baseStatus: Status = {
  screen: 'login',
  clinic: 'Test Clinic',
  version: '0.0.0-test',
  keyringAvailable: true,
  keyringHelp: '',
  notice: 'Test notice.',
  idleMinutes: 15,
};

export function makeFakeApp(): FakeApp {
  return {
    Status: vi.fn(async () => ({ ...baseStatus })),
    Setup: vi.fn(async () => ({ recoveryKey: 'AAAA-BBBB-CCCC-DDDD' })),
    Unlock: vi.fn(async () => undefined),
    Login: vi.fn(async () => ({ user: { username: 'u', name: 'U', roles: [] }, failedSince: [] })),
    Logout: vi.fn(async () => undefined),
    ValidatePatient: vi.fn(async () => ({})),
    RegisterPatient: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    UpdatePatient: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    GetPatient: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    PatientHistory: vi.fn(async () => []),
    SearchPatients: vi.fn(async () => []),
    UIReady: vi.fn(async () => undefined),
    VerifyMFA: vi.fn(async () => ({ user: { username: 'u', name: 'U', roles: [], permissions: [] }, failedSince: [], next: '' })),
    ChangePassword: vi.fn(async () => undefined),
    LockSession: vi.fn(async () => undefined),
    KeepAlive: vi.fn(async () => undefined),
    UnlockSession: vi.fn(async () => undefined),
    BeginMFAEnrollment: vi.fn(async () => ({ secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', uri: 'otpauth://totp/Outpost:admin?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Outpost' })),
    ConfirmMFAEnrollment: vi.fn(async () => ({ recoveryCodes: Array.from({ length: 10 }, (_, i) => `abcd-efgh-000${i}`) })),
    BreakGlass: vi.fn(async () => ({ until: '2026-11-23T14:05:00Z' })),
    SetPatientRestricted: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    ListUsers: vi.fn(async () => []),
    CreateUser: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    SetUserRoles: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    DisableUser: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    EnableUser: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    UnlockUser: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    ResetMFA: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    ResetPassword: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    RequestUserDeletion: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    ListDeletionRequests: vi.fn(async () => []),
    ApproveUserDeletion: vi.fn(async () => undefined),
    GetSettings: vi.fn(async () => ({ notice: 'Authorised staff only. Actions are recorded.', idleMinutes: 15, adminIdleMinutes: 10, absoluteHours: 12, auditRetentionYears: 10 })),
    SaveSettings: vi.fn(async (s: unknown) => s),
    ListAlerts: vi.fn(async () => []),
    AcknowledgeAlert: vi.fn(async () => undefined),
    ChartSummary: vi.fn(async () => emptyChart()),
    VitalSeries: vi.fn(async () => []),
    VisitRecords: vi.fn(async () => {
      throw { code: 'E_NOT_FOUND', message: 'No such visit.' };
    }),
    SaveEncounter: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    SignEncounter: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    SaveObservation: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    SaveCondition: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    SaveAllergy: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    SaveImmunization: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    SaveNote: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    SaveMedication: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    ListAudit: vi.fn(async () => ({ events: [], total: 0, offset: 0, limit: 50 })),
    SaveAuditExport: vi.fn(async () => ({ name: '' })),
    ListAuditPurges: vi.fn(async () => ({
      retentionYears: 10, cutoff: '2016-11-23T10:00:00Z', purgedThrough: 0, purgedAt: '',
      eligible: { events: 0, from: 0, through: 0, oldest: '', newest: '' }, notEligible: 'Nothing is old enough to purge.', pending: [],
    })),
    RequestAuditPurge: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    ApproveAuditPurge: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    SyncStatus: vi.fn(async () => syncState()),
    SyncNow: vi.fn(async () => syncState()),
    ListConflicts: vi.fn(async () => []),
  };
}

export let fakeApp: FakeApp = makeFakeApp();

export function installFakeGo(): FakeApp {
  fakeApp = makeFakeApp();
  (globalThis as any).go = { app: { App: fakeApp } };
  return fakeApp;
}

/** Users as Status reports them, with the permissions the backend derives from their roles. */
export const users = {
  nurse: {
    username: 'nurse.joy',
    name: 'Joy Banda',
    roles: ['nurse'],
    permissions: ['chart.read', 'chart.write', 'patient.breakglass', 'patient.read', 'patient.write'],
  },
  clinician: {
    username: 'dr.sam',
    name: 'Sam Osei',
    roles: ['clinician'],
    permissions: ['chart.read', 'chart.write', 'patient.breakglass', 'patient.read', 'patient.restrict', 'patient.write'],
  },
  admin: { username: 'admin', name: 'Amina Okafor', roles: ['administrator'], permissions: ['users.manage', 'settings.manage', 'alerts.read'] },
  clerk: { username: 'clerk', name: 'Kofi Mensah', roles: ['clerk'], permissions: ['patient.read', 'patient.write'] },
} satisfies Record<string, User>;

export function homeStatus(user: User, extra: Partial<Status> = {}): Status {
  return { ...baseStatus, screen: 'home', user, ...extra };
}

export function makePatient(over: Partial<Patient> = {}): Patient {
  return {
    id: 'p1', versionId: 'v1', clinicNo: 'OP-00001', family: 'Moyo', given: 'Tendai', other: '', sex: 'male',
    birthDate: '1990-02-03', birthEstimated: false, age: '36 y', nationalId: '', phone: '', village: 'Hillside',
    address: '', kinName: '', kinRelation: '', kinPhone: '', updatedAt: '2026-11-23T10:00:00Z', updatedBy: 'admin',
    restricted: false, ...over,
  };
}

export function makeUserInfo(over: Partial<UserInfo> = {}): UserInfo {
  return {
    id: 'u2', username: 'nurse.joy', name: 'Joy Banda', roles: ['nurse'], disabled: false, disabledReason: '',
    lockedUntil: '', mfaEnabled: false, lastLogin: '', temporaryPassword: true, created: '2026-11-23T10:00:00Z', ...over,
  };
}

export function emptyChart(over: Partial<ChartView> = {}): ChartView {
  return { problems: [], medications: [], allergies: [], vitals: [], immunizations: [], visits: [], notes: [], ...over };
}

export function chartItem<T>(id: string, value: T, over: Partial<ChartItem<T>> = {}): ChartItem<T> {
  return { id, versionId: `${id}-v1`, at: '2026-11-23T10:00:00Z', author: 'dr.sam', value, ...over };
}

export function makeAllergy(over: Partial<Allergy> = {}): Allergy {
  return { patientId: 'p1', substance: { text: 'Penicillin' }, reaction: 'rash', severity: 'moderate', status: 'active', ...over };
}

export function makeEncounter(over: Partial<Encounter> = {}): Encounter {
  return {
    patientId: 'p1', status: 'open', start: '2026-11-23T09:00:00Z', end: '', complaint: '', findings: '', assessment: '', plan: '',
    signedBy: '', signedAt: '', amendReason: '', ...over,
  };
}

export function makeAuditEntry(over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    seq: 1, at: '2026-11-23T10:00:00Z', username: 'dr.sam', roles: ['clinician'], action: 'patient.read', outcome: 'success',
    patientId: 'p1', recordId: 'p1', device: 'dev-1', workstation: 'ward-pc', osUser: '', addresses: [], session: 's1',
    reason: '', onBehalfOf: '', detail: '', prevHash: '0'.repeat(64), hash: 'ab'.repeat(32), ...over,
  };
}

/** A laptop's sync state: not connected unless told otherwise. */
export function syncState(over: Partial<SyncState> = {}): SyncState {
  return {
    enrolled: false, server: '', fingerprint: '', deviceId: '', deviceName: '', online: false, syncing: false, phase: '',
    progressDone: 0, progressTotal: 0, lastSync: '', lastAttempt: '', nextAttempt: '', lastError: '', lastErrorCode: '',
    pending: 0, conflicts: 0, auditShippedAt: '', ...over,
  };
}
