// UI steps shared by the end-to-end tests.

import assert from 'node:assert/strict';
import { SLOW } from './harness.mjs';
import { totp } from './totp.mjs';

/** Setup screen → recovery key → login screen. */
export async function setUpClinic(page, { clinic, admin }) {
  await page.getByTestId('setup-form').waitFor({ timeout: SLOW });
  await page.getByLabel('Clinic name').fill(clinic);
  await page.getByLabel('Username').fill(admin.username);
  await page.getByLabel('Full name').fill(admin.name);
  await page.getByLabel('Password', { exact: true }).fill(admin.password);
  await page.getByLabel('Confirm password').fill(admin.password);
  const keyring = page.getByTestId('keystore-keyring');
  assert.equal(await keyring.isEnabled(), true, 'the OS keyring option should be available in the harness');
  await keyring.check();
  await page.getByTestId('setup-submit').click();

  const keyEl = page.getByTestId('recovery-key');
  await keyEl.waitFor({ timeout: SLOW });
  const key = (await keyEl.innerText()).trim();
  assert.match(key, /^[A-Za-z0-9]{4}(?:-[A-Za-z0-9]{4})+$/, `recovery key looks wrong: ${JSON.stringify(key)}`);
  const cont = page.getByTestId('recovery-continue');
  assert.equal(await cont.isDisabled(), true, 'Continue must wait for the confirmation checkbox');
  await page.getByLabel('I have written down the recovery key').check();
  await cont.click();
  await page.getByTestId('login-form').waitFor({ timeout: SLOW });
}

/** Fills the sign-in form (notice accepted) and submits it. Does not wait for the result. */
export async function submitLogin(page, username, password) {
  const form = page.getByTestId('login-form');
  await form.waitFor({ timeout: SLOW });
  const accept = page.getByTestId('notice-accept');
  if (!(await accept.isChecked())) await accept.check();
  await form.getByLabel('Username').fill(username);
  await form.getByLabel('Password').fill(password);
  await page.getByTestId('login-submit').click();
}

/**
 * On the enrolment screen: reads the secret shown on the page, answers with a
 * code computed in node, confirms the recovery codes and continues.
 * Returns the base32 secret.
 */
export async function enrolMfa(env) {
  const { page } = env;
  const secretEl = page.getByTestId('enroll-secret');
  await secretEl.waitFor({ timeout: SLOW });
  const shown = (await secretEl.innerText()).trim();
  assert.match(shown, /^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/, `secret should be shown in groups of four: ${JSON.stringify(shown)}`);
  const secret = shown.replace(/\s+/g, '');
  const uri = await page.getByTestId('enroll-uri').inputValue();
  assert.match(uri, /^otpauth:\/\/totp\//, 'the otpauth URI should be shown');
  assert.ok(uri.includes(secret), 'the otpauth URI carries the same secret');

  await page.getByLabel('6-digit code').fill(totp(secret, env.backendNow()));
  await page.getByTestId('enroll-submit').click();

  const codes = page.getByTestId('recovery-code');
  await codes.first().waitFor({ timeout: SLOW });
  assert.equal(await codes.count(), 10, 'ten recovery codes are shown');
  const cont = page.getByTestId('recovery-codes-continue');
  assert.equal(await cont.isDisabled(), true, 'Continue must wait for "I have stored these codes"');
  await page.getByLabel('I have stored these codes').check();
  await cont.click();
  return secret;
}

/**
 * After the recovery codes of a first sign-in: the backend either goes on to
 * the home screen or ends the session so that the next sign-in uses the new
 * factor. In the second case, sign in again with a fresh code.
 */
export async function finishEnrolment(env, user, secret) {
  const { page } = env;
  await page.locator('[data-testid="topbar"], [data-testid="login-form"]').first().waitFor({ timeout: SLOW });
  if ((await page.getByTestId('login-form').count()) === 0) return;
  assert.match(await page.getByTestId('login-info').innerText(), /Two-step sign-in is on/);
  await submitLogin(page, user.username, user.password);
  await answerMfa(env, secret);
  await page.getByTestId('topbar').waitFor({ timeout: SLOW });
}

/** On the MFA screen: moves the backend clock 30 s on (a code is never reused) and enters a fresh code. */
export async function answerMfa(env, secret) {
  const { page } = env;
  await page.getByTestId('mfa-form').waitFor({ timeout: SLOW });
  await env.advanceClock(30);
  await page.getByLabel('Authentication code').fill(totp(secret, env.backendNow()));
  await page.getByTestId('mfa-submit').click();
}

export async function signOut(page) {
  await page.getByTestId('logout-button').click();
  await page.getByTestId('login-form').waitFor({ timeout: SLOW });
}

/** Administration → Users: creates an account with one role and a temporary password. */
export async function createUser(page, { username, name, role, temporary }) {
  await page.getByTestId('nav-admin').click();
  await page.getByTestId('admin-users').waitFor();
  await page.getByTestId('create-user-button').click();
  const form = page.getByTestId('create-user-form');
  await form.waitFor();
  await form.getByLabel('Username').fill(username);
  await form.getByLabel('Full name').fill(name);
  await form.getByRole('checkbox', { name: new RegExp(`^${role}\\b`, 'i') }).check();
  await form.getByLabel('Temporary password').fill(temporary);
  await page.getByTestId('create-user-submit').click();
  await page.locator(`[data-testid="user-row"][data-username="${username}"]`).waitFor({ timeout: SLOW });
}

/**
 * First sign-in with a temporary password: sets the user's own password
 * (which ends the session) and signs in again with it, up to the home screen.
 */
export async function firstSignIn(page, { username, temporary, password }) {
  await submitLogin(page, username, temporary);
  const form = page.getByTestId('password-form');
  await form.waitFor({ timeout: SLOW });
  await form.getByLabel('Current (temporary) password').fill(temporary);
  await form.getByLabel('New password', { exact: true }).fill(password);
  await form.getByLabel('Confirm new password').fill(password);
  await page.getByTestId('password-submit').click();
  await page.getByTestId('login-form').waitFor({ timeout: SLOW });
  await submitLogin(page, username, password);
  await page.getByTestId('topbar').waitFor({ timeout: SLOW });
}
