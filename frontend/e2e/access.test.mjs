// End-to-end test of access control against the real Go backend: MFA
// enrolment and sign-in, user administration, temporary passwords,
// restricted charts and emergency access, the idle lock, sign-in lockout.
//
// Needs OUTPOST_HARNESS (see harness.mjs), whose backend clock can be moved
// with POST /test/clock. Optional: CHROMIUM, OUTPOST_SCREENSHOT_DIR
// (admin-users.png, break-glass.png, lock-screen.png).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SLOW, openOutpost } from './harness.mjs';
import { answerMfa, enrolMfa, finishEnrolment, setUpClinic, signOut, submitLogin } from './flows.mjs';

const ADMIN = { username: 'admin', name: 'Amina Okafor', password: 'correct horse battery staple' };
const NURSE = {
  username: 'nurse.joy',
  name: 'Joy Banda',
  temporary: 'Tmp-4821-kestrel-lake',
  password: 'river stones under a quiet moon',
};
const PATIENT = { family: 'Moyo', given: 'Tendai' };
const PATIENT_TEXT = /moyo|tendai/i;
const EMERGENCY_REASON = 'Unconscious on arrival, need allergy history';

test('Outpost: MFA, user administration, restricted charts, emergency access, idle lock, lockout', { timeout: 420_000 }, async (t) => {
  const env = await openOutpost(t, 'access');
  const { page, baseURL, consoleAll, step, shot } = env;
  let adminSecret = '';

  /** Text of the whole document, hidden parts and form values included. */
  const domText = () =>
    page.evaluate(() => {
      const values = [...document.querySelectorAll('input, textarea')].map((el) => el.value).join(' ');
      return `${document.documentElement.outerHTML} ${values}`;
    });

  try {
    await step('set up the clinic', async () => {
      await page.goto(`${baseURL}/`);
      await setUpClinic(page, { clinic: 'Hillside Clinic', admin: ADMIN });
    });

    await step('first sign-in of the administrator: MFA enrolment, recovery codes, home', async () => {
      await submitLogin(page, ADMIN.username, ADMIN.password);
      await page.getByTestId('enroll').waitFor({ timeout: SLOW });
      adminSecret = await enrolMfa(env);
      await finishEnrolment(env, ADMIN, adminSecret);
      await page.getByTestId('nav-admin').waitFor();
    });

    await step('the administrator creates nurse.joy with a temporary password', async () => {
      await page.getByTestId('nav-admin').click();
      await page.getByTestId('admin-area').waitFor();
      await page.getByTestId('admin-users').waitFor();
      await page.getByTestId('create-user-button').click();
      const form = page.getByTestId('create-user-form');
      await form.waitFor();
      await form.getByLabel('Username').fill(NURSE.username);
      await form.getByLabel('Full name').fill(NURSE.name);
      await form.getByRole('checkbox', { name: /^Nurse\b/ }).check();
      await form.getByLabel('Temporary password').fill(NURSE.temporary);
      await page.getByTestId('create-user-submit').click();
      const row = page.locator(`[data-testid="user-row"][data-username="${NURSE.username}"]`);
      await row.waitFor({ timeout: SLOW });
      assert.match(await row.getByTestId('user-roles').innerText(), /Nurse/);
      assert.match(await row.getByTestId('user-status').innerText(), /Temporary password/i);
      await page.getByTestId('admin-flash').waitFor();
      await shot('admin-users.png');
    });

    await step('sign out', async () => {
      await signOut(page);
    });

    await step('nurse.joy signs in with the temporary password and must change it', async () => {
      await submitLogin(page, NURSE.username, NURSE.temporary);
      const form = page.getByTestId('password-form');
      await form.waitFor({ timeout: SLOW });
      assert.match(await page.getByTestId('password-rules').innerText(), /12 characters/);
      await form.getByLabel('Current (temporary) password').fill(NURSE.temporary);
      await form.getByLabel('New password', { exact: true }).fill(NURSE.password);
      await form.getByLabel('Confirm new password').fill(NURSE.password);
      await page.getByTestId('password-submit').click();
      await page.getByTestId('login-form').waitFor({ timeout: SLOW });
      assert.match(await page.getByTestId('login-info').innerText(), /Password changed\. Sign in with your new password\./);
    });

    await step('nurse.joy signs in with the new password: no MFA, clinical area only', async () => {
      await submitLogin(page, NURSE.username, NURSE.password);
      await page.getByTestId('search-input').waitFor({ timeout: SLOW });
      assert.match(await page.getByTestId('topbar-user').innerText(), /Joy Banda/);
      assert.equal(await page.getByTestId('nav-admin').count(), 0, 'a nurse sees no Administration area');
      assert.equal(await page.getByTestId('admin-area').count(), 0);
      await signOut(page);
    });

    await step('the administrator signs in with an MFA code, registers Moyo, Tendai and restricts the chart', async () => {
      await submitLogin(page, ADMIN.username, ADMIN.password);
      await answerMfa(env, adminSecret);
      await page.getByTestId('search-input').waitFor({ timeout: SLOW });
      await page.getByTestId('register-button').click();
      await page.getByTestId('patient-form').waitFor();
      await page.getByLabel('Family name').fill(PATIENT.family);
      await page.getByLabel('Given name').fill(PATIENT.given);
      await page.getByLabel('Sex').selectOption('male');
      await page.getByLabel('Date of birth', { exact: true }).fill('1990-02-03');
      await page.getByTestId('patient-save').click();
      await page.getByTestId('patient-view').waitFor({ timeout: SLOW });
      assert.equal((await page.getByTestId('patient-name').innerText()).trim(), 'MOYO, Tendai');
      assert.equal(await page.getByTestId('restricted-badge').count(), 0);

      await page.getByTestId('restrict-button').click();
      await page.getByTestId('restrict-form').waitFor();
      await page.getByLabel('Reason for restricting access').fill('Member of staff: chart restricted at her request');
      await page.getByTestId('restrict-submit').click();
      await page.getByTestId('restricted-badge').waitFor({ timeout: SLOW });
      assert.match(await page.getByTestId('restrict-button').innerText(), /Remove restriction/);
      await signOut(page);
    });

    await step('nurse.joy finds Moyo marked Restricted and opens the chart with emergency access', async () => {
      await submitLogin(page, NURSE.username, NURSE.password);
      const input = page.getByTestId('search-input');
      await input.waitFor({ timeout: SLOW });
      await input.fill('moyo');
      await page.locator('[data-testid="search-panel"][data-phase="done"][data-results-for="moyo"]').waitFor();
      const row = page.getByTestId('search-result').filter({ hasText: 'MOYO, Tendai' }).first();
      await row.waitFor();
      await row.getByTestId('hit-restricted').waitFor();
      await row.getByTestId('hit-name').click();

      const dialog = page.getByTestId('emergency-dialog');
      await dialog.waitFor({ timeout: SLOW });
      const explanation = await dialog.innerText();
      assert.match(explanation, /recorded/i);
      assert.match(explanation, /security officer/i);
      assert.equal(await page.getByTestId('patient-details').count(), 0, 'nothing of the chart is shown before emergency access');

      // Too short a reason is refused on the page.
      await dialog.getByLabel('Reason for emergency access').fill('urgent');
      await page.getByTestId('emergency-submit').click();
      await page.getByTestId('field-error-reason').waitFor();

      await dialog.getByLabel('Reason for emergency access').fill(EMERGENCY_REASON);
      await page.getByTestId('emergency-submit').click();
      const banner = page.getByTestId('emergency-banner');
      await banner.waitFor({ timeout: SLOW });
      const text = (await banner.innerText()).replace(/\s+/g, ' ').trim();
      assert.match(text, /^Emergency access until \d{2}:\d{2} — reason: /);
      assert.ok(text.endsWith(EMERGENCY_REASON), `the banner shows the reason: ${JSON.stringify(text)}`);
      assert.equal((await page.getByTestId('patient-name').innerText()).trim(), 'MOYO, Tendai');
      await page.getByTestId('restricted-badge').waitFor();
      await shot('break-glass.png');
    });

    await step('16 minutes later on the backend clock the next action shows the lock screen, with no patient data', async () => {
      await env.advanceClock(16 * 60);
      await page.getByTestId('tab-history').click();
      await page.getByTestId('lock-screen').waitFor({ timeout: SLOW });
      assert.match(await page.getByTestId('lock-user').innerText(), /Joy Banda/);
      assert.doesNotMatch(await domText(), PATIENT_TEXT, 'patient data is still in the DOM after locking');
      assert.equal(await page.getByTestId('patient-view').count(), 0);
      assert.equal(await page.getByTestId('search-panel').count(), 0);
      await shot('lock-screen.png');
    });

    await step('unlocking with the password returns to an empty search, not to the chart', async () => {
      await page.getByTestId('lock-screen').getByLabel('Password').fill(NURSE.password);
      await page.getByTestId('lock-submit').click();
      const input = page.getByTestId('search-input');
      await input.waitFor({ timeout: SLOW });
      assert.equal(await input.inputValue(), '');
      assert.equal(await page.getByTestId('patient-view').count(), 0);
      assert.doesNotMatch(await domText(), PATIENT_TEXT);
      await signOut(page);
    });

    await step('five wrong passwords lock nurse.joy out; the right one is then refused with the lock message', async () => {
      // The password field is emptied when the answer to an attempt arrives.
      const answered = () =>
        page.waitForFunction(() => document.querySelector('#login-password')?.value === '', undefined, { timeout: SLOW });
      for (let i = 1; i <= 5; i++) {
        await submitLogin(page, NURSE.username, `wrong password number ${i}`);
        await answered();
        await page.getByTestId('problem-message').waitFor();
      }
      await submitLogin(page, NURSE.username, NURSE.password);
      await answered();
      await page.locator('[data-testid="problem-message"], [data-testid="topbar"]').first().waitFor({ timeout: SLOW });
      assert.equal(await page.getByTestId('topbar').count(), 0, 'the home screen was reached despite the lockout');
      const message = (await page.getByTestId('problem-message').innerText()).trim();
      assert.match(message, /locked/i, `the lock message is shown as given: ${JSON.stringify(message)}`);
      assert.equal(await page.getByTestId('login-form').count(), 1, 'still on the sign-in screen');
      assert.equal(await page.getByTestId('topbar').count(), 0, 'the home screen was not reached');
    });

    await step('no patient data in browser storage or the console', async () => {
      const stored = await page.evaluate(async () => {
        const dbs = typeof indexedDB !== 'undefined' && indexedDB.databases ? await indexedDB.databases() : [];
        return { local: localStorage.length, session: sessionStorage.length, idb: dbs.length };
      });
      assert.deepEqual(stored, { local: 0, session: 0, idb: 0 });
      assert.deepEqual(consoleAll.filter((m) => PATIENT_TEXT.test(m)), [], 'patient data was written to the console');
    });

    await step('no console errors, page errors or CSP violations', async () => {
      await env.assertClean();
    });
  } catch (err) {
    throw await env.failed(err);
  }
});
