import { afterEach, describe, expect, it, vi } from 'vitest';
import { flushSync } from 'svelte';
import App from '../src/App.svelte';
import AdminDeletions from '../src/components/AdminDeletions.svelte';
import AdminSettings from '../src/components/AdminSettings.svelte';
import AdminUsers from '../src/components/AdminUsers.svelte';
import Alerts from '../src/components/Alerts.svelte';
import MfaEnroll from '../src/components/MfaEnroll.svelte';
import PatientView from '../src/components/PatientView.svelte';
import SearchResults from '../src/components/SearchResults.svelte';
import type { PatientHit, Status } from '../src/lib/api';
import { formatTime } from '../src/lib/format';
import { baseStatus, fakeApp, homeStatus, makePatient, makeUserInfo, users } from './fakeGo';
import { allByTestId, byTestId, click, render, type, waitFor } from './render';

const XSS = '<img src=x onerror=alert(1)>';

/** Shows the patient p1 in an App signed in as the user. */
async function appWithOpenPatient(status: Status) {
  fakeApp.Status.mockResolvedValue(status);
  fakeApp.SearchPatients.mockResolvedValue([
    { id: 'p1', clinicNo: 'OP-00001', family: 'Moyo', given: 'Tendai', other: '', sex: 'male', birthDate: '1990-02-03', birthEstimated: false, age: '36 y', village: 'Hillside', match: 'name', restricted: false },
  ]);
  fakeApp.GetPatient.mockResolvedValue(makePatient({ address: 'Plot 7, Hillside' }));
  const root = render(App, {});
  const input = await waitFor(() => root.querySelector<HTMLInputElement>('#search-input'));
  type(input, 'moyo');
  click(await waitFor(() => byTestId(root, 'hit-name')));
  await waitFor(() => byTestId(root, 'patient-name'));
  // Users with chart.read start on the Summary tab; the address is under Details.
  if (byTestId(root, 'tab-summary')) {
    await waitFor(() => byTestId(root, 'allergy-banner')?.dataset.state === 'none');
    click(byTestId(root, 'tab-details'));
  }
  expect(root.textContent).toContain('Plot 7, Hillside');
  return root;
}

function noPatientData(root: HTMLElement) {
  const values = [...root.querySelectorAll('input, textarea')].map((el) => (el as HTMLInputElement).value).join(' ');
  expect(`${root.innerHTML} ${values}`).not.toMatch(/moyo|tendai|hillside/i);
}

describe('locking', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('an E_LOCKED answer tears the chart down and shows the lock screen; unlocking returns to an empty search', async () => {
    const root = await appWithOpenPatient(homeStatus(users.nurse));
    // The chart goes at once, before the backend says anything more.
    let answer!: (s: Status) => void;
    fakeApp.Status.mockImplementationOnce(() => new Promise<Status>((r) => (answer = r)));
    fakeApp.PatientHistory.mockRejectedValueOnce({ code: 'E_LOCKED', message: 'The session is locked.' });
    click(byTestId(root, 'tab-history'));
    await waitFor(() => byTestId(root, 'lock-screen'));
    noPatientData(root);
    answer({ ...homeStatus(users.nurse), screen: 'locked' });
    fakeApp.Status.mockResolvedValue({ ...homeStatus(users.nurse), screen: 'locked' });

    expect(byTestId(root, 'lock-user')!.textContent).toBe('Joy Banda');
    expect(byTestId(root, 'patient-view')).toBeNull();
    noPatientData(root);

    type(root.querySelector('#lock-password'), 'wrong');
    fakeApp.UnlockSession.mockRejectedValueOnce({ code: 'E_AUTH', message: 'Wrong password.' });
    click(byTestId(root, 'lock-submit'));
    await waitFor(() => byTestId(root, 'problem-message'));
    expect(byTestId(root, 'problem-message')!.textContent).toBe('Wrong password.');

    fakeApp.Status.mockResolvedValue(homeStatus(users.nurse));
    type(root.querySelector('#lock-password'), 'river stones under a quiet moon');
    click(byTestId(root, 'lock-submit'));
    const search = await waitFor(() => root.querySelector<HTMLInputElement>('#search-input'));
    expect(fakeApp.UnlockSession).toHaveBeenLastCalledWith('river stones under a quiet moon');
    expect(search.value).toBe('');
    expect(byTestId(root, 'patient-view')).toBeNull();
    noPatientData(root);
  });

  it('the Lock button clears the screen before the backend answers', async () => {
    const root = await appWithOpenPatient(homeStatus(users.nurse));
    let release!: () => void;
    fakeApp.LockSession.mockImplementationOnce(() => new Promise<undefined>((r) => (release = () => r(undefined))));
    fakeApp.Status.mockResolvedValue({ ...homeStatus(users.nurse), screen: 'locked' });
    click(byTestId(root, 'lock-button'));
    await waitFor(() => byTestId(root, 'lock-screen'));
    noPatientData(root);
    expect(fakeApp.LockSession).toHaveBeenCalledTimes(1);
    release();
    await waitFor(() => fakeApp.Status.mock.calls.length >= 2);
    expect(byTestId(root, 'lock-screen')).not.toBeNull();
  });

  it('locks itself after Status.idleMinutes without activity, and activity postpones it', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const root = await appWithOpenPatient(homeStatus(users.nurse, { idleMinutes: 2 }));
    await vi.advanceTimersByTimeAsync(90_000);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Shift' }));
    await vi.advanceTimersByTimeAsync(60_000);
    window.dispatchEvent(new MouseEvent('mousemove'));
    await vi.advanceTimersByTimeAsync(95_000);
    flushSync();
    expect(byTestId(root, 'lock-screen')).toBeNull();
    expect(byTestId(root, 'patient-view')).not.toBeNull();
    expect(fakeApp.LockSession).not.toHaveBeenCalled();
    fakeApp.LockSession.mockImplementationOnce(async () => {
      fakeApp.Status.mockResolvedValue({ ...homeStatus(users.nurse), screen: 'locked' });
      return undefined;
    });
    await vi.advanceTimersByTimeAsync(30_000);
    await waitFor(() => byTestId(root, 'lock-screen'));
    expect(fakeApp.LockSession).toHaveBeenCalledTimes(1);
    noPatientData(root);
  });

  it('checks Status every 30 s and follows the backend when it locked the session by itself', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const root = await appWithOpenPatient(homeStatus(users.nurse));
    const before = fakeApp.Status.mock.calls.length;
    const loads = fakeApp.GetPatient.mock.calls.length;
    // Nothing changed: the chart stays as it is.
    await vi.advanceTimersByTimeAsync(30_000);
    flushSync();
    expect(fakeApp.Status.mock.calls.length).toBe(before + 1);
    expect(byTestId(root, 'patient-view')).not.toBeNull();
    expect(fakeApp.GetPatient.mock.calls.length).toBe(loads);

    fakeApp.Status.mockResolvedValue({ ...homeStatus(users.nurse), screen: 'locked' });
    await vi.advanceTimersByTimeAsync(30_000);
    await waitFor(() => byTestId(root, 'lock-screen'));
    expect(fakeApp.Status.mock.calls.length).toBe(before + 2);
    expect(fakeApp.LockSession).not.toHaveBeenCalled();
    noPatientData(root);
  });

  it('goes to the sign-in screen with a notice when the backend ended the session', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const root = await appWithOpenPatient(homeStatus(users.nurse));
    fakeApp.Status.mockResolvedValue({ ...baseStatus, screen: 'login' });
    await vi.advanceTimersByTimeAsync(30_000);
    await waitFor(() => byTestId(root, 'login-form'));
    expect(byTestId(root, 'login-info')!.textContent).toMatch(/session has ended/);
    noPatientData(root);
  });
});

describe('areas by permission', () => {
  it('an administrator without clinical roles sees Administration and no patient search', async () => {
    fakeApp.Status.mockResolvedValue(homeStatus(users.admin));
    fakeApp.ListUsers.mockResolvedValue([makeUserInfo({ id: 'u1', username: 'admin', name: 'Amina Okafor', roles: ['administrator'], mfaEnabled: true, temporaryPassword: false })]);
    const root = render(App, {});
    await waitFor(() => byTestId(root, 'admin-area'));
    expect(byTestId(root, 'search-input')).toBeNull();
    expect(byTestId(root, 'nav-patients')).toBeNull();
    expect(byTestId(root, 'nav-admin')!.getAttribute('aria-current')).toBe('page');
    expect(fakeApp.SearchPatients).not.toHaveBeenCalled();
    await waitFor(() => byTestId(root, 'user-row'));

    click(byTestId(root, 'nav-alerts'));
    await waitFor(() => byTestId(root, 'alerts-area'));
    expect(byTestId(root, 'admin-area')).toBeNull();
    expect(fakeApp.ListAlerts).toHaveBeenCalled();
  });

  it('a nurse sees only the clinical area, without restrict or admin controls', async () => {
    const root = await appWithOpenPatient(homeStatus(users.nurse));
    // The area nav holds only Patients, Import and export (chart.read) and My account.
    const nav = byTestId(root, 'area-nav')!;
    expect(allByTestId(nav, 'nav-patients')).toHaveLength(1);
    expect(allByTestId(nav, 'nav-exchange')).toHaveLength(1);
    expect(allByTestId(nav, 'nav-account')).toHaveLength(1);
    expect(nav.querySelectorAll('button')).toHaveLength(3);
    expect(byTestId(root, 'nav-admin')).toBeNull();
    expect(byTestId(root, 'restrict-button')).toBeNull();
    expect(byTestId(root, 'edit-button')).not.toBeNull();
  });

  it('a user without patient.write cannot register or edit', async () => {
    const reader = { ...users.clerk, permissions: ['patient.read'] };
    const root = await appWithOpenPatient(homeStatus(reader));
    expect(byTestId(root, 'edit-button')).toBeNull();
    click(byTestId(root, 'back-to-search'));
    await waitFor(() => byTestId(root, 'search-panel'));
    expect(byTestId(root, 'register-button')).toBeNull();
  });
});

describe('sign-in steps', () => {
  it('MFA: the code goes to VerifyMFA, then the home screen shows the sign-in banner', async () => {
    fakeApp.Status.mockResolvedValue({ ...baseStatus, screen: 'mfa', user: users.admin });
    const root = render(App, {});
    await waitFor(() => byTestId(root, 'mfa-form'));
    fakeApp.VerifyMFA.mockRejectedValueOnce({ code: 'E_AUTH', message: 'The code is not right.' });
    type(root.querySelector('#mfa-code'), '123 456');
    click(byTestId(root, 'mfa-submit'));
    await waitFor(() => byTestId(root, 'problem-message'));
    expect(fakeApp.VerifyMFA).toHaveBeenLastCalledWith('123456');

    fakeApp.VerifyMFA.mockResolvedValueOnce({ user: users.admin, failedSince: [], next: '', lastLogin: { at: '2026-11-22T08:00:00Z', workstation: 'DESK-2' } });
    fakeApp.Status.mockResolvedValue(homeStatus(users.admin));
    type(root.querySelector('#mfa-code'), 'ab12-cd34-ef56');
    click(byTestId(root, 'mfa-submit'));
    await waitFor(() => byTestId(root, 'admin-area'));
    expect(fakeApp.VerifyMFA).toHaveBeenLastCalledWith('ab12-cd34-ef56');
    expect(byTestId(root, 'last-login')!.textContent).toContain('DESK-2');
  });

  it('temporary password: the rules are shown, errors stay on their fields, success ends at the sign-in screen', async () => {
    fakeApp.Status.mockResolvedValue({ ...baseStatus, screen: 'password', user: users.nurse });
    const root = render(App, {});
    await waitFor(() => byTestId(root, 'password-form'));
    const rules = byTestId(root, 'password-rules')!.textContent!;
    expect(rules).toMatch(/12 characters/);
    expect(rules).toMatch(/common password/);
    expect(rules).toMatch(/8 positions/);

    type(root.querySelector('#password-current'), 'Tmp-4821-kestrel');
    type(root.querySelector('#password-new'), 'short');
    type(root.querySelector('#password-confirm'), 'short');
    click(byTestId(root, 'password-submit'));
    await waitFor(() => byTestId(root, 'field-error-new'));
    expect(fakeApp.ChangePassword).not.toHaveBeenCalled();

    type(root.querySelector('#password-new'), 'Tmp-4821-kestrel-x');
    type(root.querySelector('#password-confirm'), 'Tmp-4821-kestrel-x');
    fakeApp.ChangePassword.mockRejectedValueOnce({
      code: 'E_VALIDATION',
      message: 'The password was not changed.',
      fields: { new: 'The new password must differ from the current one in at least 8 character positions.' },
    });
    click(byTestId(root, 'password-submit'));
    await waitFor(() => byTestId(root, 'field-error-new')?.textContent?.includes('8 character positions'));

    type(root.querySelector('#password-new'), 'river stones under a quiet moon');
    type(root.querySelector('#password-confirm'), 'river stones under a quiet moon');
    fakeApp.Status.mockResolvedValue({ ...baseStatus, screen: 'login' });
    click(byTestId(root, 'password-submit'));
    await waitFor(() => byTestId(root, 'login-form'));
    expect(fakeApp.ChangePassword).toHaveBeenLastCalledWith({ current: 'Tmp-4821-kestrel', new: 'river stones under a quiet moon' });
    expect(byTestId(root, 'login-info')!.textContent).toBe('Password changed. Sign in with your new password.');
  });

  it('enrolment shows the secret in groups of four and the URI, then the recovery codes once', async () => {
    const ondone = vi.fn();
    const root = render(MfaEnroll, { status: { ...baseStatus, screen: 'enroll' }, ondone, oncancel: () => {} });
    const secret = await waitFor(() => byTestId(root, 'enroll-secret'));
    expect(secret.textContent!.trim().replace(/\s+/g, ' ')).toBe('JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP');
    expect(secret.classList.contains('mono')).toBe(true);
    expect((byTestId(root, 'enroll-uri') as HTMLTextAreaElement).value).toMatch(/^otpauth:\/\/totp\//);

    type(root.querySelector('#enroll-code'), '12345');
    click(byTestId(root, 'enroll-submit'));
    await waitFor(() => byTestId(root, 'field-error-code'));
    expect(fakeApp.ConfirmMFAEnrollment).not.toHaveBeenCalled();

    type(root.querySelector('#enroll-code'), '123 456');
    click(byTestId(root, 'enroll-submit'));
    await waitFor(() => byTestId(root, 'recovery-codes'));
    expect(fakeApp.ConfirmMFAEnrollment).toHaveBeenCalledWith('123456');
    expect(allByTestId(root, 'recovery-code')).toHaveLength(10);
    expect(byTestId(root, 'enroll-secret')).toBeNull();
    const cont = byTestId(root, 'recovery-codes-continue') as HTMLButtonElement;
    expect(cont.disabled).toBe(true);
    click(byTestId(root, 'recovery-codes-confirm'));
    expect(cont.disabled).toBe(false);
    click(cont);
    expect(ondone).toHaveBeenCalledTimes(1);
  });
});

describe('enrolment in the app', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps the recovery codes on screen through the status check until they are confirmed', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    fakeApp.Status.mockResolvedValue({ ...baseStatus, screen: 'enroll', user: users.admin });
    const root = render(App, {});
    await waitFor(() => byTestId(root, 'enroll-secret'));
    type(root.querySelector('#enroll-code'), '123456');
    fakeApp.Status.mockResolvedValue(homeStatus(users.admin));
    click(byTestId(root, 'enroll-submit'));
    await waitFor(() => byTestId(root, 'recovery-codes'));
    await vi.advanceTimersByTimeAsync(31_000);
    flushSync();
    expect(byTestId(root, 'recovery-codes')).not.toBeNull();
    expect(byTestId(root, 'topbar')).toBeNull();
    click(byTestId(root, 'recovery-codes-confirm'));
    click(byTestId(root, 'recovery-codes-continue'));
    await waitFor(() => byTestId(root, 'topbar'));
    expect(byTestId(root, 'recovery-codes')).toBeNull();
  });

  it('when the backend ends the session after enrolment, the codes stay until confirmed, then sign-in says why', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    fakeApp.Status.mockResolvedValue({ ...baseStatus, screen: 'enroll', user: users.admin });
    const root = render(App, {});
    await waitFor(() => byTestId(root, 'enroll-secret'));
    type(root.querySelector('#enroll-code'), '123456');
    fakeApp.Status.mockResolvedValue({ ...baseStatus, screen: 'login' });
    click(byTestId(root, 'enroll-submit'));
    await waitFor(() => byTestId(root, 'recovery-codes'));
    await vi.advanceTimersByTimeAsync(61_000);
    flushSync();
    expect(allByTestId(root, 'recovery-code')).toHaveLength(10);
    click(byTestId(root, 'recovery-codes-confirm'));
    click(byTestId(root, 'recovery-codes-continue'));
    await waitFor(() => byTestId(root, 'login-form'));
    expect(byTestId(root, 'login-info')!.textContent).toMatch(/Two-step sign-in is on/);
  });
});

describe('restricted charts', () => {
  const hit: PatientHit = {
    id: 'p1', clinicNo: 'OP-1', family: 'Moyo', given: 'Tendai', other: '', sex: 'male', birthDate: '', birthEstimated: false,
    age: '', village: '', match: 'name', restricted: true,
  };

  it('search results mark restricted patients', () => {
    const root = render(SearchResults, { hits: [hit, { ...hit, id: 'p2', restricted: false }], activeIndex: 0, onopen: () => {} });
    const rows = allByTestId(root, 'search-result');
    expect(byTestId(rows[0], 'hit-restricted')!.textContent).toBe('Restricted');
    expect(byTestId(rows[1], 'hit-restricted')).toBeNull();
  });

  it('E_RESTRICTED offers emergency access; a granted access opens the chart with a banner', async () => {
    fakeApp.GetPatient.mockRejectedValueOnce({ code: 'E_RESTRICTED', message: 'This chart is restricted.' });
    const onemergency = vi.fn();
    const root = render(PatientView, { id: 'p1', canBreakGlass: true, onemergency, onedit: () => {}, onback: () => {} });
    const dialog = await waitFor(() => byTestId(root, 'emergency-dialog'));
    expect(dialog.getAttribute('role')).toBe('dialog');
    expect(dialog.textContent).toMatch(/recorded/);
    expect(dialog.textContent).toMatch(/time-limited/);
    expect(dialog.textContent).toMatch(/security officer/);
    expect(byTestId(root, 'patient-details')).toBeNull();

    type(root.querySelector('#emergency-reason'), 'urgent');
    click(byTestId(root, 'emergency-submit'));
    await waitFor(() => byTestId(root, 'field-error-reason'));
    expect(fakeApp.BreakGlass).not.toHaveBeenCalled();

    fakeApp.BreakGlass.mockRejectedValueOnce({ code: 'E_VALIDATION', message: 'Check the reason.', fields: { reason: 'Say why this is an emergency.' } });
    type(root.querySelector('#emergency-reason'), 'because i can');
    click(byTestId(root, 'emergency-submit'));
    await waitFor(() => byTestId(root, 'field-error-reason')?.textContent === 'Say why this is an emergency.');

    fakeApp.GetPatient.mockResolvedValueOnce(makePatient({ restricted: true, family: XSS }));
    type(root.querySelector('#emergency-reason'), `Unconscious on arrival ${XSS}`);
    click(byTestId(root, 'emergency-submit'));
    const banner = await waitFor(() => byTestId(root, 'emergency-banner'));
    expect(fakeApp.BreakGlass).toHaveBeenLastCalledWith({ patientId: 'p1', reason: `Unconscious on arrival ${XSS}` });
    expect(banner.textContent!.replace(/\s+/g, ' ').trim()).toBe(
      `Emergency access until ${formatTime('2026-11-23T14:05:00Z')} — reason: Unconscious on arrival ${XSS}`,
    );
    expect(byTestId(root, 'restricted-badge')!.textContent).toBe('Restricted');
    expect(root.querySelector('img')).toBeNull();
    expect(onemergency).toHaveBeenCalledWith({ until: '2026-11-23T14:05:00Z', reason: `Unconscious on arrival ${XSS}` });
  });

  it('without patient.breakglass the chart stays closed and no dialog is offered', async () => {
    fakeApp.GetPatient.mockRejectedValueOnce({ code: 'E_RESTRICTED', message: 'This chart is restricted.' });
    const root = render(PatientView, { id: 'p1', canBreakGlass: false, onedit: () => {}, onback: () => {} });
    await waitFor(() => byTestId(root, 'problem-message'));
    expect(byTestId(root, 'emergency-dialog')).toBeNull();
  });

  it('restricting a chart needs a reason and shows the badge', async () => {
    const root = render(PatientView, { id: 'p1', initial: makePatient(), canRestrict: true, onedit: () => {}, onback: () => {} });
    await waitFor(() => byTestId(root, 'patient-name'));
    expect(byTestId(root, 'restricted-badge')).toBeNull();
    click(byTestId(root, 'restrict-button'));
    await waitFor(() => byTestId(root, 'restrict-form'));
    click(byTestId(root, 'restrict-submit'));
    await waitFor(() => byTestId(root, 'field-error-reason'));
    expect(fakeApp.SetPatientRestricted).not.toHaveBeenCalled();

    fakeApp.SetPatientRestricted.mockResolvedValueOnce(makePatient({ restricted: true, versionId: 'v2' }));
    type(root.querySelector('#restrict-reason'), 'Member of staff');
    click(byTestId(root, 'restrict-submit'));
    await waitFor(() => byTestId(root, 'restricted-badge'));
    expect(fakeApp.SetPatientRestricted).toHaveBeenCalledWith({ id: 'p1', restricted: true, reason: 'Member of staff' });
    expect(byTestId(root, 'restrict-button')!.textContent!.trim()).toBe('Remove restriction');
    expect(byTestId(root, 'restrict-form')).toBeNull();
  });
});

describe('administration', () => {
  it('creates a user: checkboxes for roles, backend field errors on their fields, the new user in the list', async () => {
    fakeApp.ListUsers.mockResolvedValue([makeUserInfo({ id: 'u1', username: 'admin', name: 'Amina Okafor', roles: ['administrator'], mfaEnabled: true, temporaryPassword: false })]);
    const root = render(AdminUsers, { currentUsername: 'admin' });
    await waitFor(() => byTestId(root, 'user-row'));
    click(byTestId(root, 'create-user-button'));
    const form = await waitFor(() => byTestId(root, 'create-user-form'));

    click(byTestId(root, 'create-user-submit'));
    await waitFor(() => byTestId(form, 'field-error-roles'));
    expect(fakeApp.CreateUser).not.toHaveBeenCalled();

    type(form.querySelector('#new-user-username'), 'Nurse Joy');
    type(form.querySelector('#new-user-name'), `Joy ${XSS}`);
    click(byTestId(form, 'role-nurse'));
    type(form.querySelector('#new-user-temporaryPassword'), 'Tmp-4821-kestrel');
    fakeApp.CreateUser.mockRejectedValueOnce({ code: 'E_VALIDATION', message: 'Please correct the fields.', fields: { username: 'Use letters a–z.' } });
    click(byTestId(root, 'create-user-submit'));
    await waitFor(() => byTestId(form, 'field-error-username')?.textContent === 'Use letters a–z.');
    expect(fakeApp.CreateUser).toHaveBeenLastCalledWith({ username: 'Nurse Joy', name: `Joy ${XSS}`, roles: ['nurse'], temporaryPassword: 'Tmp-4821-kestrel' });
    expect(form.querySelector('#new-user-username')!.getAttribute('aria-invalid')).toBe('true');

    type(form.querySelector('#new-user-username'), 'nurse.joy');
    fakeApp.CreateUser.mockResolvedValueOnce(makeUserInfo({ name: `Joy ${XSS}` }));
    click(byTestId(root, 'create-user-submit'));
    await waitFor(() => allByTestId(root, 'user-row').length === 2);
    expect(byTestId(root, 'create-user-form')).toBeNull();
    expect(byTestId(root, 'admin-flash')!.textContent).toMatch(/nurse\.joy created/);
    const row = root.querySelector('[data-testid="user-row"][data-username="nurse.joy"]')!;
    expect(row.textContent).toContain(XSS);
    expect(root.querySelector('img')).toBeNull();
    expect(byTestId(row, 'user-status')!.textContent).toMatch(/Temporary password/);
  });

  it('manages a user: roles, unlock, disable with confirmation, deletion request', async () => {
    const joy = makeUserInfo({ lockedUntil: new Date(Date.now() + 10 * 60_000).toISOString(), temporaryPassword: false });
    fakeApp.ListUsers.mockResolvedValue([joy]);
    const root = render(AdminUsers, { currentUsername: 'admin' });
    click(await waitFor(() => byTestId(root, 'user-manage')));
    const detail = await waitFor(() => byTestId(root, 'user-detail'));
    expect(byTestId(detail, 'user-detail-status')!.textContent).toMatch(/Locked until/);

    const save = byTestId(detail, 'roles-save') as HTMLButtonElement;
    expect(save.disabled).toBe(true);
    click(byTestId(detail, 'role-clerk'));
    expect(save.disabled).toBe(false);
    fakeApp.SetUserRoles.mockResolvedValueOnce({ ...joy, roles: ['nurse', 'clerk'] });
    click(save);
    await waitFor(() => fakeApp.SetUserRoles.mock.calls.length === 1);
    expect(fakeApp.SetUserRoles).toHaveBeenCalledWith({ id: 'u2', roles: ['nurse', 'clerk'] });

    fakeApp.UnlockUser.mockResolvedValueOnce({ ...joy, roles: ['nurse', 'clerk'], lockedUntil: '' });
    click(await waitFor(() => byTestId(root, 'user-unlock')));
    await waitFor(() => !byTestId(root, 'user-unlock'));
    expect(fakeApp.UnlockUser).toHaveBeenCalledWith('u2');

    click(byTestId(root, 'user-disable'));
    await waitFor(() => byTestId(root, 'user-confirm'));
    expect(fakeApp.DisableUser).not.toHaveBeenCalled();
    fakeApp.DisableUser.mockResolvedValueOnce({ ...joy, lockedUntil: '', disabled: true, disabledReason: 'admin' });
    click(byTestId(root, 'user-confirm-yes'));
    await waitFor(() => byTestId(root, 'user-enable'));
    expect(fakeApp.DisableUser).toHaveBeenCalledWith('u2');

    const form = byTestId(root, 'deletion-request-form')!;
    expect(form.textContent).toMatch(/second administrator/);
    click(byTestId(root, 'deletion-request-submit'));
    await waitFor(() => byTestId(form, 'field-error-deletionReason'));
    fakeApp.RequestUserDeletion.mockResolvedValueOnce({ id: 'd1', userId: 'u2', username: 'nurse.joy', requestedBy: 'admin', reason: 'left the clinic', at: '' });
    type(root.querySelector('#user-deletionReason'), 'left the clinic');
    click(byTestId(root, 'deletion-request-submit'));
    await waitFor(() => byTestId(root, 'admin-flash')?.textContent?.includes('second administrator'));
    expect(fakeApp.RequestUserDeletion).toHaveBeenCalledWith({ id: 'u2', reason: 'left the clinic' });
  });

  it('dual control: the requester cannot approve; another administrator can', async () => {
    fakeApp.ListDeletionRequests.mockResolvedValue([
      { id: 'd1', userId: 'u2', username: 'nurse.joy', requestedBy: 'admin', reason: 'left', at: '2026-11-23T10:00:00Z' },
      { id: 'd2', userId: 'u3', username: 'clerk.old', requestedBy: 'admin2', reason: 'retired', at: '2026-11-23T10:00:00Z' },
    ]);
    const root = render(AdminDeletions, { currentUsername: 'admin' });
    const rows = await waitFor(() => (allByTestId(root, 'deletion-request').length === 2 ? allByTestId(root, 'deletion-request') : null));
    expect(byTestId(rows[0], 'deletion-approve')).toBeNull();
    expect(byTestId(rows[0], 'deletion-own')).not.toBeNull();
    click(byTestId(rows[1], 'deletion-approve'));
    click(await waitFor(() => byTestId(root, 'deletion-approve-confirm')));
    await waitFor(() => allByTestId(root, 'deletion-request').length === 1);
    expect(fakeApp.ApproveUserDeletion).toHaveBeenCalledWith('d2');
  });

  it('settings: bounds are shown and checked; backend field errors land on their fields', async () => {
    const onsaved = vi.fn();
    const root = render(AdminSettings, { onsaved });
    const form = await waitFor(() => byTestId(root, 'settings-form'));
    expect(form.textContent).toMatch(/1–30 minutes/);
    expect(form.textContent).toMatch(/1–15 minutes/);
    expect(form.textContent).toMatch(/1–24 hours/);
    type(root.querySelector('#settings-idleMinutes'), '45');
    click(byTestId(root, 'settings-save'));
    await waitFor(() => byTestId(root, 'field-error-idleMinutes'));
    expect(fakeApp.SaveSettings).not.toHaveBeenCalled();

    type(root.querySelector('#settings-idleMinutes'), '20');
    fakeApp.SaveSettings.mockRejectedValueOnce({ code: 'E_VALIDATION', message: 'Check the settings.', fields: { notice: 'Write a notice of 20 to 4000 characters.' } });
    click(byTestId(root, 'settings-save'));
    await waitFor(() => byTestId(root, 'field-error-notice'));
    expect(fakeApp.SaveSettings).toHaveBeenLastCalledWith({
      notice: 'Authorised staff only. Actions are recorded.', idleMinutes: 20, adminIdleMinutes: 10, absoluteHours: 12, auditRetentionYears: 10,
    });

    click(byTestId(root, 'settings-save'));
    await waitFor(() => onsaved.mock.calls.length === 1);
  });
});

describe('security alerts', () => {
  it('lists open alerts as text and acknowledges them', async () => {
    fakeApp.ListAlerts.mockResolvedValue([
      { id: 'a1', at: '2026-11-23T10:00:00Z', kind: 'break-glass', message: `nurse.joy opened a restricted chart: ${XSS}`, username: 'nurse.joy', acknowledged: false },
      { id: 'a2', at: '2026-11-22T10:00:00Z', kind: 'lockout', message: 'old', username: 'x', acknowledged: true },
    ]);
    const root = render(Alerts, {});
    await waitFor(() => byTestId(root, 'alert-row'));
    expect(allByTestId(root, 'alert-row')).toHaveLength(1);
    expect(byTestId(root, 'alert-message')!.textContent).toContain(XSS);
    expect(root.querySelector('img')).toBeNull();
    expect(byTestId(root, 'alerts-count')!.textContent).toBe('1 open alert.');
    click(byTestId(root, 'alert-ack'));
    await waitFor(() => byTestId(root, 'alerts-empty'));
    expect(fakeApp.AcknowledgeAlert).toHaveBeenCalledWith('a1');
    click(byTestId(root, 'alerts-show-acknowledged'));
    expect(allByTestId(root, 'alert-row')).toHaveLength(2);
  });
});
