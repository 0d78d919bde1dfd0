// End-to-end test of the Outpost frontend against the real Go backend.
//
// Needs OUTPOST_HARNESS: an executable that, run as
//   $OUTPOST_HARNESS --data-dir <dir> --addr 127.0.0.1:0
// prints "listening http://127.0.0.1:PORT" as its first stdout line and serves
// frontend/dist with the same window.go.app.App bindings as the desktop window.
//
// Optional: CHROMIUM (browser path, default /usr/bin/chromium),
// OUTPOST_SCREENSHOT_DIR (where PNG screenshots are written).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const SLOW = 60_000; // argon2id hashing and first vault open can take a while
const XSS_ADDRESS = '<img src=x onerror="window.__xss=1">';
const ADMIN = { username: 'admin', name: 'Amina Okafor', password: 'correct horse battery staple' };

/** Starts the harness and resolves with its base URL once it is listening. */
function startHarness(executable, dataDir) {
  const child = spawn(executable, ['--data-dir', dataDir, '--addr', '127.0.0.1:0'], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stderr: '', stdout: '' };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    output.stderr = (output.stderr + d).slice(-20_000);
  });
  child.stdout.setEncoding('utf8');

  const url = new Promise((resolve, reject) => {
    let buffered = '';
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      reject(new Error(`harness did not print "listening http://..." within ${SLOW / 1000}s\nstderr:\n${output.stderr}`));
    }, SLOW);
    child.stdout.on('data', (d) => {
      output.stdout = (output.stdout + d).slice(-20_000);
      if (done) return;
      buffered += d;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      done = true;
      clearTimeout(timer);
      const first = buffered.slice(0, nl).trim();
      const m = /^listening (http:\/\/\S+)$/.exec(first);
      if (m) resolve(m[1].replace(/\/+$/, ''));
      else reject(new Error(`unexpected first line from harness: ${JSON.stringify(first)}`));
    });
    child.on('error', (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`could not start harness ${executable}: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`harness exited early (code ${code}, signal ${signal})\nstderr:\n${output.stderr}`));
    });
  });
  return { child, url, output };
}

async function stopHarness(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), 10_000));
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

test('Outpost: setup, sign-in, register, search, edit, history', { timeout: 300_000 }, async (t) => {
  const harness = process.env.OUTPOST_HARNESS;
  assert.ok(
    harness && harness.trim() !== '',
    'OUTPOST_HARNESS is not set. Set it to the path of the Outpost test harness binary ' +
      '(it is started as "$OUTPOST_HARNESS --data-dir <dir> --addr 127.0.0.1:0").',
  );

  const shotDir = process.env.OUTPOST_SCREENSHOT_DIR || '';
  if (shotDir) await mkdir(shotDir, { recursive: true });

  const work = await mkdtemp(path.join(tmpdir(), 'outpost-e2e-'));
  const dataDir = path.join(work, 'data');
  const profileDir = path.join(work, 'chromium');
  await mkdir(dataDir);
  await mkdir(profileDir);

  const h = startHarness(harness, dataDir);
  let context;
  t.after(async () => {
    if (context) await context.close().catch(() => {});
    await stopHarness(h.child);
    await rm(work, { recursive: true, force: true }).catch(() => {});
  });

  const baseURL = await h.url;
  t.diagnostic(`harness at ${baseURL}`);

  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: { width: 1280, height: 800 },
  });

  // Record CSP violations from the first script onwards.
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} ${e.sample || ''}`.trim());
    });
  });

  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);

  const consoleErrors = [];
  const consoleAll = [];
  const pageErrors = [];
  page.on('console', (msg) => {
    consoleAll.push(msg.text());
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => pageErrors.push(String(err && err.message ? err.message : err)));

  const shot = async (name, fullPage = true) => {
    if (!shotDir) return;
    await page.screenshot({ path: path.join(shotDir, name), fullPage });
  };

  let stepName = '';
  const step = async (name, fn) => {
    stepName = name;
    t.diagnostic(`step: ${name}`);
    await fn();
  };

  try {
    await step('open the app: setup screen', async () => {
      const response = await page.goto(`${baseURL}/`);
      const csp = response.headers()['content-security-policy'] || '';
      assert.match(csp, /script-src 'self'/, 'the page is served with a strict CSP header');
      assert.match(csp, /frame-ancestors 'none'/, 'the CSP header forbids framing');
      await page.getByTestId('setup-form').waitFor({ timeout: SLOW });
    });

    await step('set up the clinic with keyring storage', async () => {
      await page.getByLabel('Clinic name').fill('Riverside Health Post');
      await page.getByLabel('Username').fill(ADMIN.username);
      await page.getByLabel('Full name').fill(ADMIN.name);
      await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
      await page.getByLabel('Confirm password').fill(ADMIN.password);
      const keyring = page.getByTestId('keystore-keyring');
      assert.equal(await keyring.isEnabled(), true, 'the OS keyring option should be available in the harness');
      await keyring.check();
      await page.getByTestId('setup-submit').click();
    });

    await step('read the recovery key and confirm it', async () => {
      const keyEl = page.getByTestId('recovery-key');
      await keyEl.waitFor({ timeout: SLOW });
      const key = (await keyEl.innerText()).trim();
      assert.match(key, /^[A-Za-z0-9]{4}(?:-[A-Za-z0-9]{4})+$/, `recovery key looks wrong: ${JSON.stringify(key)}`);
      const cont = page.getByTestId('recovery-continue');
      assert.equal(await cont.isDisabled(), true, 'Continue must wait for the confirmation checkbox');
      await page.getByLabel('I have written down the recovery key').check();
      await cont.click();
    });

    await step('sign in after accepting the notice', async () => {
      const form = page.getByTestId('login-form');
      await form.waitFor({ timeout: SLOW });
      assert.match(await page.getByTestId('clinic-name').innerText(), /Riverside Health Post/);
      assert.ok((await page.getByTestId('notice').innerText()).trim().length > 0, 'the notice should be shown');
      await page.getByLabel('I have read and accept this notice').check();
      await page.getByLabel('Username').fill(ADMIN.username);
      await page.getByLabel('Password').fill(ADMIN.password);
      await page.getByTestId('login-submit').click();
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
      const csp = await page.evaluate(() => window.__cspViolations ?? []);
      assert.deepEqual(csp, [], 'CSP violations');
      assert.deepEqual(pageErrors, [], 'uncaught page errors');
      assert.deepEqual(consoleErrors, [], 'console errors');
    });
  } catch (err) {
    if (shotDir) await page.screenshot({ path: path.join(shotDir, 'failure.png'), fullPage: true }).catch(() => {});
    const tail = h.output.stderr.split('\n').slice(-30).join('\n');
    err.message = `[step: ${stepName}] ${err.message}\n--- harness stderr (tail) ---\n${tail}`;
    throw err;
  }
});
