import { afterEach, describe, expect, it, vi } from 'vitest';
import { GENERIC_MESSAGE, ProblemError, api, can, normalizeProblem, onProblem, onSessionEnded, onSessionLocked, setBindingWait } from '../src/lib/api';
import { fakeApp } from './fakeGo';

const generic = { code: 'E_INTERNAL', message: GENERIC_MESSAGE };

describe('normalizeProblem', () => {
  it('keeps a Problem object', () => {
    const p = { code: 'E_AUTH', message: 'Wrong username or password.', incident: 'INC-1' };
    expect(normalizeProblem(p)).toEqual(p);
  });

  it('keeps string field messages and drops anything else', () => {
    const p = normalizeProblem({
      code: 'E_VALIDATION',
      message: 'Check the form.',
      fields: { family: 'Required.', given: 3, other: '', nested: { x: 1 } },
      stack: 'goroutine 1 [running]',
    });
    expect(p).toEqual({ code: 'E_VALIDATION', message: 'Check the form.', fields: { family: 'Required.' } });
  });

  it('parses a JSON string of a Problem', () => {
    const s = JSON.stringify({ code: 'E_CONFLICT', message: 'Changed by someone else.', incident: 'abc' });
    expect(normalizeProblem(s)).toEqual({ code: 'E_CONFLICT', message: 'Changed by someone else.', incident: 'abc' });
  });

  it('parses an Error whose message is a JSON Problem (newer Wails runtimes)', () => {
    const err = new Error(JSON.stringify({ code: 'E_SESSION', message: 'Please sign in again.' }));
    expect(normalizeProblem(err)).toEqual({ code: 'E_SESSION', message: 'Please sign in again.' });
  });

  it('unwraps {error: ...}', () => {
    expect(normalizeProblem({ error: '{"code":"E_FORBIDDEN","message":"Not allowed."}' })).toEqual({
      code: 'E_FORBIDDEN',
      message: 'Not allowed.',
    });
  });

  it('uses a generic message when the code is there but the message is not', () => {
    expect(normalizeProblem({ code: 'E_VAULT' })).toEqual({ code: 'E_VAULT', message: GENERIC_MESSAGE });
  });

  it.each([
    ['a plain string', 'sql: database is closed'],
    ['a plain Error', new Error('panic: runtime error: index out of range')],
    ['malformed JSON', '{"code": '],
    ['JSON without a code', '{"message":"x"}'],
    ['a JSON array', '[1,2]'],
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['an object without code', { message: 'hi' }],
  ])('turns %s into E_INTERNAL with a generic message', (_label, value) => {
    expect(normalizeProblem(value)).toEqual(generic);
  });

  it('passes a ProblemError through', () => {
    const p = { code: 'E_NOT_FOUND', message: 'No such patient.' };
    expect(normalizeProblem(new ProblemError(p))).toBe(p);
  });
});

describe('api calls', () => {
  afterEach(() => {
    onSessionEnded(null);
    onSessionLocked(null);
    onProblem('E_PASSWORD', null);
    setBindingWait(10_000);
  });

  it('tells the lock listener about E_LOCKED and nobody else', async () => {
    const locked = vi.fn();
    const ended = vi.fn();
    onSessionLocked(locked);
    onSessionEnded(ended);
    fakeApp.PatientHistory.mockRejectedValueOnce({ code: 'E_LOCKED', message: 'Locked.' });
    await expect(api.patientHistory('p1')).rejects.toBeInstanceOf(ProblemError);
    expect(locked).toHaveBeenCalledWith({ code: 'E_LOCKED', message: 'Locked.' });
    expect(ended).not.toHaveBeenCalled();
  });

  it('lets any code have a listener, and removes it with null', async () => {
    const due = vi.fn();
    onProblem('E_PASSWORD', due);
    fakeApp.SearchPatients.mockRejectedValueOnce({ code: 'E_PASSWORD', message: 'Change your password first.' });
    await api.searchPatients('x').catch(() => {});
    expect(due).toHaveBeenCalledTimes(1);
    onProblem('E_PASSWORD', null);
    fakeApp.SearchPatients.mockRejectedValueOnce({ code: 'E_PASSWORD', message: 'Change your password first.' });
    await api.searchPatients('x').catch(() => {});
    expect(due).toHaveBeenCalledTimes(1);
  });

  it('calls the new methods with their arguments and turns null lists into empty ones', async () => {
    fakeApp.ListUsers.mockResolvedValueOnce(null);
    fakeApp.ListDeletionRequests.mockResolvedValueOnce(null);
    fakeApp.ListAlerts.mockResolvedValueOnce(null);
    fakeApp.ConfirmMFAEnrollment.mockResolvedValueOnce(null);
    await expect(api.listUsers()).resolves.toEqual([]);
    await expect(api.listDeletionRequests()).resolves.toEqual([]);
    await expect(api.listAlerts()).resolves.toEqual([]);
    await expect(api.confirmMFAEnrollment('123456')).resolves.toEqual({ recoveryCodes: [] });
    await api.breakGlass({ patientId: 'p1', reason: 'unconscious on arrival' });
    expect(fakeApp.BreakGlass).toHaveBeenCalledWith({ patientId: 'p1', reason: 'unconscious on arrival' });
    await api.unlockSession('pw');
    expect(fakeApp.UnlockSession).toHaveBeenCalledWith('pw');
    await api.approveUserDeletion('d1');
    expect(fakeApp.ApproveUserDeletion).toHaveBeenCalledWith('d1');
    await api.changePassword({ current: 'a', new: 'b' });
    expect(fakeApp.ChangePassword).toHaveBeenCalledWith({ current: 'a', new: 'b' });
  });

  it('calls the bound Go method with its arguments', async () => {
    fakeApp.SearchPatients.mockResolvedValueOnce([{ id: '1' }]);
    await expect(api.searchPatients('schmidt 1982')).resolves.toEqual([{ id: '1' }]);
    expect(fakeApp.SearchPatients).toHaveBeenCalledWith('schmidt 1982');
  });

  it('turns null lists and maps into empty ones', async () => {
    fakeApp.SearchPatients.mockResolvedValueOnce(null);
    fakeApp.PatientHistory.mockResolvedValueOnce(null);
    fakeApp.ValidatePatient.mockResolvedValueOnce(null);
    await expect(api.searchPatients('x')).resolves.toEqual([]);
    await expect(api.patientHistory('x')).resolves.toEqual([]);
    await expect(api.validatePatient({} as never)).resolves.toEqual({});
  });

  it('rejects with a ProblemError carrying the normalised problem', async () => {
    fakeApp.Login.mockRejectedValueOnce('{"code":"E_AUTH","message":"Wrong username or password.","incident":"I-9"}');
    const err = await api.login({ username: 'a', password: 'b', noticeAccepted: true }).catch((e) => e);
    expect(err).toBeInstanceOf(ProblemError);
    expect(err.problem).toEqual({ code: 'E_AUTH', message: 'Wrong username or password.', incident: 'I-9' });
  });

  it('tells the session listener about E_SESSION', async () => {
    const listener = vi.fn();
    onSessionEnded(listener);
    fakeApp.GetPatient.mockRejectedValueOnce({ code: 'E_SESSION', message: 'Signed out.' });
    await expect(api.getPatient('p1')).rejects.toBeInstanceOf(ProblemError);
    expect(listener).toHaveBeenCalledWith({ code: 'E_SESSION', message: 'Signed out.' });
  });

  it('fails cleanly when the backend bindings never appear', async () => {
    delete (globalThis as { go?: unknown }).go;
    setBindingWait(60);
    const err = await api.status().catch((e) => e);
    expect(err).toBeInstanceOf(ProblemError);
    expect(err.problem.code).toBe('E_INTERNAL');
  });
});

describe('can', () => {
  it('grants only listed permissions', () => {
    const user = { username: 'a', name: 'A', roles: ['nurse'], permissions: ['patient.read'] };
    expect(can(user, 'patient.read')).toBe(true);
    expect(can(user, 'users.manage')).toBe(false);
    expect(can(undefined, 'patient.read')).toBe(false);
    expect(can({ ...user, permissions: undefined as unknown as string[] }, 'patient.read')).toBe(false);
  });
});
