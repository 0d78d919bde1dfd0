// End-to-end test of the Outpost frontend against the real Go backend:
// setup, sign-in with MFA enrolment, register, search, edit, history.
//
// Needs OUTPOST_HARNESS (see harness.mjs). Optional: CHROMIUM,
// OUTPOST_SCREENSHOT_DIR (search-results.png, patient-history.png).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SLOW, openOutpost } from './harness.mjs';
import { enrolMfa, finishEnrolment, setUpClinic, submitLogin } from './flows.mjs';

const XSS_ADDRESS = '<img src=x onerror="window.__xss=1">';
const ADMIN = { username: 'admin', name: 'Amina Okafor', password: 'correct horse battery staple' };

test('Outpost: setup, sign-in, register, search, edit, history', { timeout: 300_000 }, async (t) => {
  const env = await openOutpost(t, 'outpost');
  const { page, baseURL, consoleAll, step, shot } = env;

  try {
    await step('open the app: setup screen', async () => {
      const response = await page.goto(`${baseURL}/`);
      const csp = response.headers()['content-security-policy'] || '';
      assert.match(csp, /script-src 'self'/, 'the page is served with a strict CSP header');
      assert.match(csp, /frame-ancestors 'none'/, 'the CSP header forbids framing');
      await page.getByTestId('setup-form').waitFor({ timeout: SLOW });
    });

    await step('set up the clinic with keyring storage and confirm the recovery key', async () => {
      await setUpClinic(page, { clinic: 'Riverside Health Post', admin: ADMIN });
    });

    await step('sign in after accepting the notice', async () => {
      assert.match(await page.getByTestId('clinic-name').innerText(), /Riverside Health Post/);
      assert.ok((await page.getByTestId('notice').innerText()).trim().length > 0, 'the notice should be shown');
      await submitLogin(page, ADMIN.username, ADMIN.password);
    });

    await step('the administrator enrols MFA at the first sign-in', async () => {
      await page.getByTestId('enroll').waitFor({ timeout: SLOW });
      const secret = await enrolMfa(env);
      await finishEnrolment(env, ADMIN, secret);
      await page.getByTestId('search-input').waitFor({ timeout: SLOW });
      await page.getByTestId('login-banner').waitFor();
      await page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'search-input');
      assert.match(await page.getByTestId('topbar-user').innerText(), /Amina Okafor/);
    });

    await step('register Catherine Schmidt', async () => {
      await page.getByTestId('register-button').click();
      await page.getByTestId('patient-form').waitFor();
      await page.getByLabel('Family name').fill('Schmidt');
      await page.getByLabel('Given name').fill('Catherine');
      await page.getByLabel('Sex').selectOption('female');
      await page.getByLabel('Date of birth', { exact: true }).fill('1982-04-17');
      await page.getByLabel('Village').fill('Lowland');
      await page.getByLabel('Address').fill(XSS_ADDRESS);
      await page.getByTestId('patient-save').click();
      await page.getByTestId('patient-view').waitFor({ timeout: SLOW });
      assert.equal((await page.getByTestId('patient-name').innerText()).trim(), 'SCHMIDT, Catherine');
      assert.equal((await page.getByTestId('patient-address').innerText()).trim(), XSS_ADDRESS);
      assert.equal((await page.getByTestId('patient-village').innerText()).trim(), 'Lowland');
      assert.match(await page.getByTestId('patient-birth').innerText(), /1982/);
    });

    await step('find her with a misspelt family name', async () => {
      await page.getByTestId('back-to-search').click();
      const input = page.getByTestId('search-input');
      await input.fill('shmidt');
      await page.locator('[data-testid="search-panel"][data-phase="done"][data-results-for="shmidt"]').waitFor();
      const row = page.getByTestId('search-result').filter({ hasText: 'SCHMIDT, Catherine' });
      await row.first().waitFor();
      await shot('search-results.png');
    });

    await step('find her as "kathryn" and open her with the keyboard', async () => {
      const input = page.getByTestId('search-input');
      await input.fill('kathryn');
      // Wait until the results on screen belong to "kathryn", not to the previous query.
      await page.locator('[data-testid="search-panel"][data-phase="done"][data-results-for="kathryn"]').waitFor();
      const rows = page.getByTestId('search-result');
      const names = await rows.allInnerTexts();
      const index = names.findIndex((n) => n.includes('SCHMIDT, Catherine'));
      assert.ok(index >= 0, 'Catherine should be in the results for "kathryn"');
      await input.focus();
      for (let i = 0; i < index; i++) await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      await page.getByTestId('patient-view').waitFor();
      assert.equal((await page.getByTestId('patient-name').innerText()).trim(), 'SCHMIDT, Catherine');
    });

    await step('edit the village with a reason', async () => {
      await page.getByTestId('edit-button').click();
      await page.getByTestId('patient-form').waitFor();
      assert.equal(await page.getByLabel('Village').inputValue(), 'Lowland');
      await page.getByLabel('Village').fill('Upland');
      await page.getByLabel('Why is this record being changed?').fill('moved');
      await page.getByTestId('patient-save').click();
      await page.getByTestId('patient-view').waitFor({ timeout: SLOW });
      await page.getByTestId('flash').waitFor();
      assert.equal((await page.getByTestId('patient-village').innerText()).trim(), 'Upland');
    });

    await step('history shows two versions and the village change', async () => {
      await page.getByTestId('tab-history').click();
      await page.getByTestId('history').waitFor();
      const versions = page.getByTestId('history-version');
      await versions.nth(1).waitFor();
      assert.equal(await versions.count(), 2, 'expected exactly two versions');
      const newest = versions.first();
      const change = newest.getByTestId('diff-change').filter({ hasText: 'Lowland → Upland' });
      await change.waitFor();
      assert.equal((await change.innerText()).replace(/\s+/g, ' ').trim(), 'Lowland → Upland');
      assert.match(await newest.getByTestId('history-reason').innerText(), /moved/);
      await shot('patient-history.png');
    });

    await step('patient text is shown literally, never as markup', async () => {
      assert.equal(await page.evaluate(() => window.__xss), undefined, 'window.__xss was set: markup was executed');
      assert.equal(await page.locator('img[src="x"]').count(), 0, 'an <img> from patient data was created');
      // The first version lists the address as recorded.
      assert.ok((await page.getByText(XSS_ADDRESS, { exact: true }).count()) >= 1, 'address should appear as text in the history');
      await page.getByTestId('tab-details').click();
      assert.equal((await page.getByTestId('patient-address').innerText()).trim(), XSS_ADDRESS);
    });

    await step('no patient data in browser storage or the console', async () => {
      const stored = await page.evaluate(async () => {
        const dbs = typeof indexedDB !== 'undefined' && indexedDB.databases ? await indexedDB.databases() : [];
        return { local: localStorage.length, session: sessionStorage.length, idb: dbs.length };
      });
      assert.deepEqual(stored, { local: 0, session: 0, idb: 0 });
      const leaked = consoleAll.filter((m) => /schmidt|catherine|lowland|upland/i.test(m));
      assert.deepEqual(leaked, [], 'patient data was written to the console');
    });

    await step('sign out clears the patient from the screen', async () => {
      await page.getByTestId('logout-button').click();
      await page.getByTestId('login-form').waitFor({ timeout: SLOW });
      const text = await page.locator('body').innerText();
      assert.doesNotMatch(text, /schmidt|catherine/i);
    });

    await step('no console errors, page errors or CSP violations', async () => {
      await env.assertClean();
    });
  } catch (err) {
    throw await env.failed(err);
  }
});
