import { afterEach, describe, expect, it, vi } from 'vitest';
import { flushSync } from 'svelte';
import App from '../src/App.svelte';
import ChangePassword from '../src/components/ChangePassword.svelte';
import type { Status, User } from '../src/lib/api';
import { baseStatus, fakeApp, homeStatus, users } from './fakeGo';
import { allByTestId, byTestId, click, render, type, waitFor } from './render';

const XSS = '<img src=x onerror=alert(1)>';

/** Mounts the App signed in as the user and opens My account from the top bar. */
async function openAccount(user: User, status: Status = homeStatus(user)) {
  fakeApp.Status.mockResolvedValue(status);
  const root = render(App, {});
  click(await waitFor(() => byTestId(root, 'nav-account')));
  await waitFor(() => byTestId(root, 'account-area'));
  return root;
}

function fillPassword(root: HTMLElement, current: string, next: string, confirm = next) {
  type(root.querySelector('#password-current'), current);
  type(root.querySelector('#password-new'), next);
  type(root.querySelector('#password-confirm'), confirm);
}

describe('My account: navigation', () => {
  it('appears in the area nav for a clerk-only user, with who is signed in', async () => {
    fakeApp.Status.mockResolvedValue(homeStatus(users.clerk));
    const root = render(App, {});
    await waitFor(() => byTestId(root, 'search-panel'));
    const nav = byTestId(root, 'area-nav')!;
    const entry = byTestId(nav, 'nav-account')!;
    expect(entry.textContent!.trim()).toBe('My account');
    expect(entry.getAttribute('aria-current')).toBeNull();
    expect(byTestId(nav, 'nav-patients')!.getAttribute('aria-current')).toBe('page');

    click(entry);
    const area = await waitFor(() => byTestId(root, 'account-area'));
    expect(entry.getAttribute('aria-current')).toBe('page');
    expect(byTestId(root, 'search-panel')).toBeNull();
    expect(byTestId(area, 'account-identity')!.textContent!.replace(/\s+/g, ' ').trim()).toBe(
      'Signed in as Kofi Mensah (clerk), roles: Clerk.',
    );
    await waitFor(() => document.activeElement?.id === 'area-title');
    expect(document.activeElement!.textContent).toBe('My account');
    // Both parts are there; nothing was asked of the backend yet.
    expect(byTestId(area, 'password-form')!.getAttribute('data-mode')).toBe('voluntary');
    expect(byTestId(area, 'account-mfa-setup')!.textContent!.trim()).toBe('Set up an authenticator app');
    expect(byTestId(area, 'account-mfa')!.textContent).toMatch(/replaces/);
    expect(byTestId(area, 'account-mfa')!.textContent).toMatch(/signed out here and on every other computer/);
    expect(fakeApp.BeginMFAEnrollment).not.toHaveBeenCalled();
    expect(fakeApp.ChangePassword).not.toHaveBeenCalled();
  });

  it('is there for a user without roles too, who still lands on "Nothing to show"', async () => {
    const nobody: User = { username: 'temp.staff', name: `Temp ${XSS}`, roles: [], permissions: ['self'] };
    fakeApp.Status.mockResolvedValue(homeStatus(nobody));
    const root = render(App, {});
    await waitFor(() => byTestId(root, 'no-areas'));
    click(byTestId(root, 'nav-account'));
    const area = await waitFor(() => byTestId(root, 'account-area'));
    expect(byTestId(area, 'account-name')!.textContent).toBe(`Temp ${XSS}`);
    expect(byTestId(area, 'account-roles')!.textContent).toBe('No roles');
    expect(root.querySelector('img')).toBeNull();
    click(byTestId(root, 'password-cancel'));
    await waitFor(() => byTestId(root, 'no-areas'));
  });

  it('an MFA sign-in is reported as two-step sign-in being on', async () => {
    fakeApp.Status.mockResolvedValue({ ...baseStatus, screen: 'mfa', user: users.nurse });
    const root = render(App, {});
    await waitFor(() => byTestId(root, 'mfa-form'));
    fakeApp.VerifyMFA.mockResolvedValueOnce({ user: users.nurse, failedSince: [], next: '' });
    fakeApp.Status.mockResolvedValue(homeStatus(users.nurse));
    type(root.querySelector('#mfa-code'), '123456');
    click(byTestId(root, 'mfa-submit'));
    click(await waitFor(() => byTestId(root, 'nav-account')));
    const state = await waitFor(() => byTestId(root, 'account-mfa-state'));
    expect(state.getAttribute('data-state')).toBe('on');
  });
});

describe('My account: change password', () => {
  it('success goes to the sign-in screen with the notice; the rules are shown', async () => {
    const root = await openAccount(users.clerk);
    const rules = byTestId(root, 'password-rules')!.textContent!;
    expect(rules).toMatch(/at least 12 characters/);
    expect(rules).toMatch(/not be a common password/);
    expect(rules).toMatch(/at least 8 positions/);
    expect(root.querySelector('label[for="password-current"]')!.textContent).toBe('Current password');

    fillPassword(root, 'old password of mine', 'river stones under a quiet moon');
    fakeApp.ChangePassword.mockImplementationOnce(async () => {
      // The backend ends every session of the user.
      fakeApp.Status.mockResolvedValue({ ...baseStatus, screen: 'login' });
      return undefined;
    });
    click(byTestId(root, 'password-submit'));
    await waitFor(() => byTestId(root, 'login-form'));
    expect(fakeApp.ChangePassword).toHaveBeenCalledTimes(1);
    expect(fakeApp.ChangePassword).toHaveBeenCalledWith({ current: 'old password of mine', new: 'river stones under a quiet moon' });
    expect(byTestId(root, 'login-info')!.textContent).toBe('Password changed. Sign in with your new password.');
    expect(byTestId(root, 'topbar')).toBeNull();
    expect(fakeApp.Logout).not.toHaveBeenCalled();
  });

  it('shows local and backend field errors on their fields and stays signed in', async () => {
    const root = await openAccount(users.clerk);
    // Checked here first: nothing is sent.
    fillPassword(root, '', 'short', 'shorter');
    click(byTestId(root, 'password-submit'));
    await waitFor(() => byTestId(root, 'field-error-new'));
    expect(byTestId(root, 'field-error-current')).not.toBeNull();
    expect(byTestId(root, 'field-error-confirm')).not.toBeNull();
    expect(fakeApp.ChangePassword).not.toHaveBeenCalled();
    await waitFor(() => document.activeElement?.id === 'password-current');

    fillPassword(root, 'not my password', 'password1234');
    fakeApp.ChangePassword.mockRejectedValueOnce({
      code: 'E_VALIDATION',
      message: 'The password was not changed.',
      fields: { current: 'This is not your current password.', new: 'This password is too common.' },
    });
    click(byTestId(root, 'password-submit'));
    await waitFor(() => byTestId(root, 'field-error-current')?.textContent === 'This is not your current password.');
    expect(byTestId(root, 'field-error-new')!.textContent).toBe('This password is too common.');
    expect(byTestId(root, 'field-error-confirm')).toBeNull();
    expect(root.querySelector('#password-current')!.getAttribute('aria-invalid')).toBe('true');
    expect(root.querySelector('#password-new')!.getAttribute('aria-invalid')).toBe('true');
    expect(byTestId(root, 'problem-message')!.textContent).toBe('The password was not changed.');
    await waitFor(() => document.activeElement?.id === 'password-current');
    // Still in My account, still signed in.
    expect(byTestId(root, 'account-area')).not.toBeNull();
    expect(byTestId(root, 'login-form')).toBeNull();
  });

  it('Cancel returns to the previous area without signing out, and forgets what was typed', async () => {
    fakeApp.Status.mockResolvedValue(homeStatus(users.admin));
    const root = render(App, {});
    await waitFor(() => byTestId(root, 'admin-area'));
    click(byTestId(root, 'nav-alerts'));
    await waitFor(() => byTestId(root, 'alerts-area'));
    click(byTestId(root, 'nav-account'));
    await waitFor(() => byTestId(root, 'account-area'));
    fillPassword(root, 'something typed', 'something else typed');

    click(byTestId(root, 'password-cancel'));
    await waitFor(() => byTestId(root, 'alerts-area'));
    expect(byTestId(root, 'account-area')).toBeNull();
    expect(byTestId(root, 'nav-alerts')!.getAttribute('aria-current')).toBe('page');
    await waitFor(() => document.activeElement?.id === 'area-title');
    expect(fakeApp.ChangePassword).not.toHaveBeenCalled();
    expect(fakeApp.Logout).not.toHaveBeenCalled();

    click(byTestId(root, 'nav-account'));
    await waitFor(() => byTestId(root, 'account-area'));
    expect((root.querySelector('#password-current') as HTMLInputElement).value).toBe('');
    expect((root.querySelector('#password-new') as HTMLInputElement).value).toBe('');
  });

  it('Cancel from My account goes back to the patient search for a clerk', async () => {
    const root = await openAccount(users.clerk);
    click(byTestId(root, 'password-cancel'));
    await waitFor(() => byTestId(root, 'search-panel'));
    expect(byTestId(root, 'nav-patients')!.getAttribute('aria-current')).toBe('page');
  });

  it('the forced screen keeps its wording and signs out on cancel', async () => {
    const onchanged = vi.fn();
    const oncancel = vi.fn();
    const root = render(ChangePassword, { status: { ...baseStatus, screen: 'password', user: users.nurse }, onchanged, oncancel });
    expect(byTestId(root, 'password-form')!.getAttribute('data-mode')).toBe('forced');
    expect(root.querySelector('h1')!.textContent).toBe('Choose a new password');
    expect(root.querySelector('label[for="password-current"]')!.textContent).toBe('Current (temporary) password');
    expect(byTestId(root, 'password-cancel')!.textContent).toBe('Sign out');
    expect(document.activeElement?.id).toBe('password-current');
    click(byTestId(root, 'password-cancel'));
    expect(oncancel).toHaveBeenCalledTimes(1);
  });
});

describe('My account: two-step sign-in', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('Cancel on the set-up goes back to My account, still signed in', async () => {
    const root = await openAccount(users.nurse);
    click(byTestId(root, 'account-mfa-setup'));
    const enroll = await waitFor(() => byTestId(root, 'enroll'));
    expect(enroll.getAttribute('data-mode')).toBe('voluntary');
    await waitFor(() => byTestId(root, 'enroll-secret'));
    expect(byTestId(root, 'topbar')).toBeNull();
    const cancel = byTestId(root, 'enroll-cancel')!;
    expect(cancel.textContent).toBe('Cancel');
    click(cancel);
    await waitFor(() => byTestId(root, 'account-area'));
    expect(byTestId(root, 'nav-account')!.getAttribute('aria-current')).toBe('page');
    expect(byTestId(root, 'enroll')).toBeNull();
    expect(fakeApp.Logout).not.toHaveBeenCalled();
    expect(fakeApp.ConfirmMFAEnrollment).not.toHaveBeenCalled();
  });

  it('sets up an authenticator app: secret, code, recovery codes once, then sign-in with the notice', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const root = await openAccount(users.clerk);
    click(byTestId(root, 'account-mfa-setup'));
    const secret = await waitFor(() => byTestId(root, 'enroll-secret'));
    expect(fakeApp.BeginMFAEnrollment).toHaveBeenCalledTimes(1);
    expect(secret.textContent!.trim().replace(/\s+/g, ' ')).toBe('JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP');
    expect(byTestId(root, 'enroll')!.textContent).toMatch(/Set up an authenticator app/);
    expect(byTestId(root, 'enroll')!.textContent).toMatch(/replaces/);
    expect((byTestId(root, 'enroll-uri') as HTMLTextAreaElement).value).toMatch(/^otpauth:\/\/totp\//);

    // The status check still says 'home' until the code is confirmed: the set-up stays.
    await vi.advanceTimersByTimeAsync(31_000);
    flushSync();
    expect(byTestId(root, 'enroll-secret')).not.toBeNull();
    expect(byTestId(root, 'topbar')).toBeNull();

    fakeApp.ConfirmMFAEnrollment.mockRejectedValueOnce({ code: 'E_VALIDATION', message: 'The code is not right.', fields: { code: 'Enter the 6-digit code the app shows now.' } });
    type(root.querySelector('#enroll-code'), '000000');
    click(byTestId(root, 'enroll-submit'));
    await waitFor(() => byTestId(root, 'field-error-code')?.textContent === 'Enter the 6-digit code the app shows now.');

    // Confirming ends every session of the user.
    fakeApp.ConfirmMFAEnrollment.mockImplementationOnce(async () => {
      fakeApp.Status.mockResolvedValue({ ...baseStatus, screen: 'login' });
      return { recoveryCodes: Array.from({ length: 10 }, (_, i) => `wxyz-efgh-000${i}`) };
    });
    type(root.querySelector('#enroll-code'), '123 456');
    click(byTestId(root, 'enroll-submit'));
    await waitFor(() => byTestId(root, 'recovery-codes'));
    expect(fakeApp.ConfirmMFAEnrollment).toHaveBeenLastCalledWith('123456');
    expect(allByTestId(root, 'recovery-code')).toHaveLength(10);

    // The codes stay through the status checks (the backend says 'login') and activity sends no keep-alive.
    const keepAlives = fakeApp.KeepAlive.mock.calls.length;
    window.dispatchEvent(new MouseEvent('mousemove'));
    await vi.advanceTimersByTimeAsync(61_000);
    flushSync();
    expect(allByTestId(root, 'recovery-code')).toHaveLength(10);
    expect(byTestId(root, 'login-form')).toBeNull();
    expect(fakeApp.KeepAlive.mock.calls.length).toBe(keepAlives);

    const cont = byTestId(root, 'recovery-codes-continue') as HTMLButtonElement;
    expect(cont.disabled).toBe(true);
    click(byTestId(root, 'recovery-codes-confirm'));
    click(cont);
    await waitFor(() => byTestId(root, 'login-form'));
    expect(byTestId(root, 'login-info')!.textContent).toBe(
      'Two-step sign-in is on. Sign in again with your password and a code from your app.',
    );
    expect(byTestId(root, 'recovery-code')).toBeNull();
    expect(fakeApp.Logout).not.toHaveBeenCalled();
  });
});
