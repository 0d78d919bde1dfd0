// A fake of the Wails bindings (window.go.app.App), for unit tests only.
import { vi, type Mock } from 'vitest';
import type { Status } from '../src/lib/api';

export type FakeApp = Record<string, Mock<(...args: any[]) => Promise<any>>>;

export const baseStatus: Status = {
  screen: 'login',
  clinic: 'Test Clinic',
  version: '0.0.0-test',
  keyringAvailable: true,
  keyringHelp: '',
  notice: 'Test notice.',
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
  };
}

export let fakeApp: FakeApp = makeFakeApp();

export function installFakeGo(): FakeApp {
  fakeApp = makeFakeApp();
  (globalThis as any).go = { app: { App: fakeApp } };
  return fakeApp;
}
