// End-to-end test of sync in the app, against the real outpost-server and
// two real laptops (two harness processes, each with its own vault and
// browser): laptop A sets up the clinic and connects to the server in
// Administration → Clinic server, registers a patient and opens a visit,
// then makes an enrollment package; laptop B joins the clinic with the
// package and its code, signs in with A's administrator account and sees
// A's patient. With the server stopped, both change the same visit (its
// complaint and plan) and the patient's phone; once it is back, both sync
// and both show the two conflicts. A merges the visit field by field (B's
// complaint, A's plan) with a reason in Conflicts; B resolves the phone
// from the banner on the patient's page; both sync again: the conflicts
// are gone on both, which show the merged visit and the chosen phone.
// Last, the server revokes B, which erases itself at its next sync.
//
// Needs OUTPOST_HARNESS (see harness.mjs) and OUTPOST_SERVER, the path of
// the outpost-server binary. Optional: CHROMIUM, OUTPOST_SCREENSHOT_DIR
// (sync-status.png, sync-package.png, sync-join.png, sync-conflict.png,
// sync-erased.png).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { SLOW, openOutpost } from './harness.mjs';
import { answerMfa, enrolMfa, finishEnrolment, setUpClinic, submitLogin } from './flows.mjs';

const run = promisify(execFile);

const ADMIN = { username: 'admin', name: 'Amina Okafor', password: 'correct horse battery staple' };
const CLINIC = 'Hill Clinic';
const PATIENT = { family: 'Mwale', given: 'Chikondi' };
const COMPLAINT = 'Cough';
const COMPLAINT_A = 'Cough and fever since Monday';
const COMPLAINT_B = 'Cough for 3 days, no fever';
const PLAN_A = 'Amoxicillin 500 mg three times a day for 5 days';
const PLAN_B = 'Paracetamol, review in 2 days';
const PHONE_A = '+265 991 234 567';
const PHONE_B = '+265 888 765 432';

function requireServer() {
  const server = process.env.OUTPOST_SERVER;
  assert.ok(server && server.trim() !== '', 'OUTPOST_SERVER is not set. Set it to the path of the outpost-server binary.');
  return server;
}

/** A loopback port free now (the server is stopped and started again on the same one). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The clinic server: init, tokens, serve on a fixed loopback port, stop and start again. */
async function clinicServer(t) {
  const bin = requireServer();
  const work = await mkdtemp(path.join(tmpdir(), 'outpost-sync-server-'));
  const dir = path.join(work, 'state');
  const port = await freePort();
  let child = null;
  let log = '';

  const init = await run(bin, ['init', '--data-dir', dir, '--host', '127.0.0.1', '--host', 'localhost']);
  const fp = /\b([0-9A-F]{2}(?::[0-9A-F]{2}){31})\b/.exec(init.stdout);
  assert.ok(fp, `no fingerprint in the output of outpost-server init:\n${init.stdout}`);

  const server = {
    url: `https://127.0.0.1:${port}`,
    fingerprint: fp[1],
    log: () => log,

    /** A one-time enrollment token for the clinic (created by the first). */
    async token() {
      const out = await run(bin, ['enroll', '--data-dir', dir, '--clinic', 'hill', '--clinic-name', CLINIC]);
      const m = /valid once until[^\n]*:\s*\n\s*\n\s*(\S+)\s*\n/.exec(out.stdout);
      assert.ok(m, `no token in the output of outpost-server enroll:\n${out.stdout}`);
      return m[1];
    },

    /** Revokes a laptop: refused from now on, told to erase its data. */
    async revoke(deviceId) {
      await run(bin, ['revoke', '--data-dir', dir, deviceId]);
    },

    /** Serves until stop(); resolves once it listens. */
    async start() {
      child = spawn(bin, ['serve', '--data-dir', dir, '--addr', `127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr.setEncoding('utf8');
      const from = log.length;
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`outpost-server did not start:\n${log}`)), SLOW);
        child.stderr.on('data', (d) => {
          log += d;
          if (/serving the sync protocol/.test(log.slice(from))) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`outpost-server exited (code ${code}, signal ${signal}):\n${log}`));
        });
      });
    },

    async stop() {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((resolve) => c.once('exit', resolve));
      c.kill('SIGTERM');
      const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), 10_000));
      if ((await Promise.race([exited, timeout])) === 'timeout') {
        c.kill('SIGKILL');
        await exited;
      }
    },
  };
  t.after(async () => {
    await server.stop();
    await rm(work, { recursive: true, force: true }).catch(() => {});
  });
  return server;
}

/** The laptop's sync state, read through the same binding the status bar polls. */
function syncState(page) {
  return page.evaluate(() => window.go.app.App.SyncStatus());
}

/**
 * Sync now from the status bar, then waits until a sync that started after
 * the click has ended (lastAttempt moved on and nothing runs).
 */
async function syncNow(page) {
  const bar = page.getByTestId('sync-status');
  // A background sync may be running: wait for its end, then ask for ours.
  await page.locator('[data-testid="sync-status"][data-syncing="false"]').waitFor({ timeout: SLOW });
  const before = await syncState(page);
  // lastAttempt has whole seconds: ours must fall in a later one.
  await new Promise((r) => setTimeout(r, 1100));
  await bar.getByTestId('sync-now').click();
  const deadline = Date.now() + SLOW;
  for (;;) {
    const s = await syncState(page);
    if (!s.syncing && s.lastAttempt && s.lastAttempt !== before.lastAttempt) return s;
    assert.ok(Date.now() < deadline, `the sync did not end: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Syncs until the state passes check (the other laptop's versions may need a round). */
async function syncUntil(page, check, what) {
  let s;
  for (let i = 0; i < 6; i++) {
    s = await syncNow(page);
    if (check(s)) return s;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.fail(`${what}: ${JSON.stringify(s)}`);
}

async function openPatient(page) {
  await page.getByTestId('nav-patients').click();
  // Patients is open already on a chart: back to the search.
  if ((await page.getByTestId('patient-view').count()) > 0) await page.getByTestId('back-to-search').click();
  const input = page.getByTestId('search-input');
  await input.waitFor({ timeout: SLOW });
  await input.fill('mwale');
  await page.locator('[data-testid="search-panel"][data-phase="done"][data-results-for="mwale"]').waitFor({ timeout: SLOW });
  const row = page.getByTestId('search-result').filter({ hasText: 'MWALE, Chikondi' }).first();
  await row.waitFor({ timeout: SLOW });
  await row.getByTestId('hit-name').click();
  await page.getByTestId('patient-view').waitFor({ timeout: SLOW });
}

/** On the chart: the Visits tab, the one visit opened. */
async function openVisit(page) {
  await page.getByTestId('tab-visits').click();
  const item = page.getByTestId('visit-item').first();
  await item.waitFor({ timeout: SLOW });
  await item.getByTestId('visit-view').click();
  const visit = page.locator('[data-testid="visit-form"][data-status="open"]');
  await visit.waitFor({ timeout: SLOW });
  return visit;
}

async function changeVisit(page, complaint, plan) {
  await openPatient(page);
  const visit = await openVisit(page);
  await visit.getByLabel('Presenting complaint').fill(complaint);
  await visit.getByLabel('Plan', { exact: true }).fill(plan);
  await page.getByTestId('visit-save').click();
  await page.getByTestId('visit-flash').waitFor({ timeout: SLOW });
}

/** The patient's phone changed with a reason (Edit on the patient's page). */
async function changePhone(page, phone) {
  await openPatient(page);
  await page.getByTestId('edit-button').click();
  const form = page.getByTestId('patient-form');
  await form.waitFor({ timeout: SLOW });
  await form.locator('#patient-phone').fill(phone);
  await form.getByLabel('Why is this record being changed?').fill('New phone number');
  await page.getByTestId('patient-save').click();
  await page.getByTestId('patient-view').waitFor({ timeout: SLOW });
  assert.equal((await page.getByTestId('patient-phone').innerText()).trim(), phone);
}

/** A conflict card by the kind it names ("Visit", "Patient details"). */
function conflictCard(page, scope, kind) {
  return scope.getByTestId('conflict').filter({ has: page.locator('h3', { hasText: kind }) });
}

test('Outpost sync: connect, add a laptop, join, conflicts on both laptops merged field by field (a visit in Conflicts, the phone from the chart)', { timeout: 600_000 }, async (t) => {
  const server = await clinicServer(t);
  await server.start();
  const tokenA = await server.token();
  const tokenB = await server.token();
  const a = await openOutpost(t, 'sync-a');
  let b = null;
  let env = a;
  let secret = '';

  try {
    await a.step('laptop A: set up the clinic; the administrator enrols MFA; the status bar says "not connected"', async () => {
      const { page } = a;
      await page.goto(`${a.baseURL}/`);
      await setUpClinic(page, { clinic: CLINIC, admin: ADMIN });
      await submitLogin(page, ADMIN.username, ADMIN.password);
      await page.getByTestId('enroll').waitFor({ timeout: SLOW });
      secret = await enrolMfa(a);
      await finishEnrolment(a, ADMIN, secret);
      await page.getByTestId('sync-not-enrolled').waitFor({ timeout: SLOW });
      assert.equal((await page.getByTestId('sync-not-enrolled').innerText()).trim(), 'Not connected to a clinic server');
    });

    await a.step('laptop A: Administration → Clinic server refuses a wrong fingerprint beside its field, then connects', async () => {
      const { page } = a;
      await page.getByTestId('sync-connect-link').click();
      const form = page.getByTestId('connect-form');
      await form.waitFor({ timeout: SLOW });
      await form.getByLabel('Server address').fill(server.url);
      await form.getByLabel('Certificate fingerprint (SHA-256)').fill('AB:CD');
      await form.getByLabel('Enrollment token').fill(tokenA);
      await form.getByLabel('Laptop name').fill('Laptop A');
      await page.getByTestId('connect-submit').click();
      await page.getByTestId('field-error-fingerprint').waitFor({ timeout: SLOW });
      assert.equal(await form.getByLabel('Certificate fingerprint (SHA-256)').getAttribute('aria-invalid'), 'true');

      await form.getByLabel('Certificate fingerprint (SHA-256)').fill(server.fingerprint);
      await page.getByTestId('connect-submit').click();
      await page.getByTestId('server-details').waitFor({ timeout: SLOW });
      assert.equal((await page.getByTestId('server-address').innerText()).trim(), server.url);
      assert.equal((await page.getByTestId('server-fingerprint').innerText()).trim(), server.fingerprint);
      assert.notEqual((await page.getByTestId('server-device-id').innerText()).trim(), '');
      await page.getByTestId('sync-online').waitFor({ timeout: SLOW });
    });

    await a.step('laptop A: registers a patient, opens a visit, syncs: online, nothing waiting', async () => {
      const { page } = a;
      await page.getByTestId('nav-patients').click();
      await page.getByTestId('register-button').click();
      await page.getByTestId('patient-form').waitFor();
      await page.getByLabel('Family name').fill(PATIENT.family);
      await page.getByLabel('Given name').fill(PATIENT.given);
      await page.getByLabel('Sex').selectOption('female');
      await page.getByLabel('Date of birth', { exact: true }).fill('1988-03-14');
      await page.getByTestId('patient-save').click();
      await page.getByTestId('patient-view').waitFor({ timeout: SLOW });
      await page.getByTestId('tab-visits').click();
      await page.getByTestId('open-visit').click();
      const visit = page.locator('[data-testid="visit-form"][data-status="open"]');
      await visit.waitFor({ timeout: SLOW });
      await visit.getByLabel('Presenting complaint').fill(COMPLAINT);
      await page.getByTestId('visit-save').click();
      await page.getByTestId('visit-flash').waitFor({ timeout: SLOW });

      const s = await syncUntil(page, (st) => st.online && st.pending === 0 && st.lastSync !== '', 'A did not send its changes');
      assert.equal(s.lastError, '');
      await page.locator('[data-testid="sync-status"][data-online="true"]').waitFor({ timeout: SLOW });
      await page.locator('[data-testid="sync-pending"]', { hasText: 'No changes waiting' }).waitFor({ timeout: SLOW });
      assert.match(await page.getByTestId('sync-last').innerText(), /^Last sync /);
      await a.shot('sync-status.png', false);
    });

    let packagePath = '';
    let code = '';
    await a.step('laptop A: Add a laptop… saves the package and shows its one-time code once', async () => {
      const { page } = a;
      await page.getByTestId('nav-admin').click();
      await page.getByTestId('admin-tab-server').click();
      await page.getByTestId('add-laptop').click();
      const form = page.getByTestId('package-form');
      await form.waitFor();
      await form.getByLabel('Enrollment token for the new laptop').fill(tokenB);
      await form.getByLabel("New laptop's name").fill('Laptop B');
      await page.getByTestId('package-submit').click();
      await page.getByTestId('package-code').waitFor({ timeout: SLOW });
      code = (await page.getByTestId('package-code').innerText()).trim();
      assert.match(code, /^[0-9A-Z]{5}(?:-[0-9A-Z]{5})+$/, `the code looks wrong: ${JSON.stringify(code)}`);
      const file = (await page.getByTestId('package-file').innerText()).trim();
      assert.match(file, /\.opkg$/);
      packagePath = path.join(a.saveDir, path.basename(file));
      assert.match(await page.getByTestId('package-made').innerText(), /separately/);
      await a.shot('sync-package.png', false);
      await page.getByTestId('package-done').click();
      assert.equal(await page.getByTestId('package-code').count(), 0, 'the code is gone once hidden');
      assert.ok(!(await page.getByTestId('admin-server').innerText()).includes(code), 'the code is not shown again');
    });

    b = await openOutpost(t, 'sync-b');
    env = b;
    await b.step('laptop B: Join a clinic with the package and the code; the records arrive; the recovery key once', async () => {
      const { page } = b;
      await page.goto(`${b.baseURL}/`);
      await page.getByTestId('setup-form').waitFor({ timeout: SLOW });
      await page.getByTestId('setup-mode-join').click();
      const form = page.getByTestId('join-form');
      await form.waitFor();
      await page.getByTestId('join-file').setInputFiles(packagePath);
      // A wrong code first: refused beside its field, nothing kept.
      await form.getByLabel('One-time code').fill('00000-00000-00000-00000');
      await form.getByLabel('Laptop name').fill('Laptop B');
      await page.getByTestId('keystore-keyring').check();
      await page.getByTestId('join-submit').click();
      await page.getByTestId('field-error-code').waitFor({ timeout: SLOW });

      await form.getByLabel('One-time code').fill(code.toLowerCase());
      await page.getByTestId('join-submit').click();
      await page.locator('[data-testid="join-progress"], [data-testid="recovery-key"]').first().waitFor({ timeout: SLOW });
      await b.shot('sync-join.png', false);
      const keyEl = page.getByTestId('recovery-key');
      await keyEl.waitFor({ timeout: 2 * SLOW });
      assert.match((await keyEl.innerText()).trim(), /^[A-Za-z0-9]{4}(?:-[A-Za-z0-9]{4})+$/);
      await page.getByLabel('I have written down the recovery key').check();
      await page.getByTestId('recovery-continue').click();
      await page.getByTestId('login-form').waitFor({ timeout: SLOW });
    });

    await b.step("laptop B: signs in with A's administrator account and sees A's patient and visit", async () => {
      const { page } = b;
      await submitLogin(page, ADMIN.username, ADMIN.password);
      await page.locator('[data-testid="mfa-form"], [data-testid="topbar"], [data-testid="login-error"], [data-testid="problem"]').first().waitFor({ timeout: SLOW });
      assert.equal(await page.getByTestId('mfa-form').count(), 1, `expected the code step for the synced account; the page says: ${await page.locator('body').innerText()}`);
      await answerMfa(b, secret);
      await page.getByTestId('topbar').waitFor({ timeout: SLOW });
      await page.getByTestId('sync-online').waitFor({ timeout: SLOW });
      await openPatient(page);
      assert.equal((await page.getByTestId('patient-name').innerText()).trim(), 'MWALE, Chikondi');
      const visit = await openVisit(page);
      assert.equal(await visit.getByLabel('Presenting complaint').inputValue(), COMPLAINT);
    });

    await a.step("the server stops; A cannot sync and says so; both change the same visit and the patient's phone offline", async () => {
      await server.stop();
      env = a;
      await changeVisit(a.page, COMPLAINT_A, PLAN_A);
      await changePhone(a.page, PHONE_A);
      const s = await syncNow(a.page);
      assert.equal(s.online, false, 'the failed sync leaves A offline');
      assert.notEqual(s.lastError, '');
      await a.page.locator('[data-testid="sync-status"][data-online="false"]').waitFor({ timeout: SLOW });
      assert.equal((await a.page.getByTestId('sync-online').innerText()).trim(), 'Offline');
      await a.page.getByTestId('sync-error').waitFor({ timeout: SLOW });
      assert.equal((await a.page.getByTestId('sync-pending').innerText()).trim().endsWith('waiting'), true);
      assert.notEqual((await a.page.getByTestId('sync-pending').innerText()).trim(), 'No changes waiting');
      env = b;
      await changeVisit(b.page, COMPLAINT_B, PLAN_B);
      await changePhone(b.page, PHONE_B);
    });

    await a.step('the server is back; both sync and both show the two conflicts', async () => {
      await server.start();
      env = a;
      await syncUntil(a.page, (s) => s.pending === 0 && s.online, 'A did not send its change');
      env = b;
      await syncUntil(b.page, (s) => s.conflicts === 2, 'B does not show both conflicts');
      env = a;
      await syncUntil(a.page, (s) => s.conflicts === 2, 'A does not show both conflicts');
      for (const x of [a, b]) {
        env = x;
        await x.page.locator('[data-testid="sync-conflicts"]', { hasText: '2 conflicts' }).waitFor({ timeout: SLOW });
      }
      // B's chart points at it too.
      env = b;
      await openPatient(b.page);
      await b.page.getByTestId('patient-conflicts-banner').waitFor({ timeout: SLOW });
    });

    await a.step("A: Conflicts shows the visit's versions side by side; Merge… field by field needs a reason: B's complaint, A's plan", async () => {
      env = a;
      const { page } = a;
      await page.getByTestId('sync-conflicts').click();
      await page.getByTestId('conflicts-area').waitFor({ timeout: SLOW });
      await page.getByTestId('conflict').nth(1).waitFor({ timeout: SLOW });
      const card = conflictCard(page, page, 'Visit');
      await card.waitFor({ timeout: SLOW });
      assert.equal(await card.getByTestId('conflict-head').count(), 2);
      for (const [field, one, other] of [['complaint', COMPLAINT_A, COMPLAINT_B], ['plan', PLAN_A, PLAN_B]]) {
        const row = card.locator(`[data-testid="conflict-row"][data-field="${field}"]`);
        assert.equal(await row.getAttribute('data-differs'), 'true', `${field} differs`);
        const rowText = await row.innerText();
        assert.ok(rowText.includes(one) && rowText.includes(other), `both values of ${field} side by side: ${rowText}`);
      }
      assert.equal(await card.locator('[data-testid="conflict-row"][data-field="findings"]').getAttribute('data-differs'), 'false');
      await a.shot('sync-conflict.png');

      await card.getByTestId('conflict-merge').click();
      const form = card.locator('form[data-testid$="merge-form"]');
      await form.waitFor();
      // One choice per differing field of the visit, named as the visit form names it.
      const members = await form.getByTestId('merge-member').evaluateAll((els) => els.map((e) => e.getAttribute('data-member')));
      assert.deepEqual(members, ['complaint', 'plan']);
      const legends = await form.locator('[data-testid="merge-member"] legend').allInnerTexts();
      assert.deepEqual(legends.map((l) => l.trim()), ['Presenting complaint', 'Plan']);
      const pick = (member, text) => form.locator(`[data-testid="merge-member"][data-member="${member}"] label`).filter({ hasText: text }).locator('input');
      await pick('complaint', COMPLAINT_B).check();
      await pick('plan', PLAN_A).check();
      await form.getByTestId('merge-submit').click();
      await form.getByTestId('field-error-reason').waitFor();
      await form.getByLabel('Reason').fill('Nurse on laptop B saw the patient last; the doctor on A prescribed');
      await form.getByTestId('merge-submit').click();
      await page.getByTestId('conflicts-notice').waitFor({ timeout: SLOW });
      await card.waitFor({ state: 'detached', timeout: SLOW });
      // The patient's phone is still in conflict: it is resolved on B.
      await conflictCard(page, page, 'Patient details').waitFor({ timeout: SLOW });
    });

    await b.step("B: the banner on the patient's page shows the conflicts; the phone is resolved there", async () => {
      env = b;
      const { page } = b;
      await openPatient(page);
      await page.getByTestId('patient-conflicts-banner').waitFor({ timeout: SLOW });
      await page.getByTestId('patient-conflicts-toggle').click();
      const panel = page.getByTestId('conflicts-panel');
      await panel.waitFor({ timeout: SLOW });
      const card = conflictCard(page, panel, 'Patient details');
      await card.waitFor({ timeout: SLOW });
      const row = card.locator('[data-testid="conflict-row"][data-field="phone"]');
      assert.equal(await row.getAttribute('data-differs'), 'true');
      const rowText = await row.innerText();
      assert.ok(rowText.includes(PHONE_A) && rowText.includes(PHONE_B), `both phones side by side: ${rowText}`);
      await card.getByTestId('conflict-merge').click();
      const form = card.locator('form[data-testid$="merge-form"]');
      await form.waitFor();
      const members = await form.getByTestId('merge-member').evaluateAll((els) => els.map((e) => e.getAttribute('data-member')));
      assert.deepEqual(members, ['phone']);
      await form.locator('[data-testid="merge-member"][data-member="phone"] label').filter({ hasText: PHONE_A }).locator('input').check();
      await form.getByLabel('Reason').fill('Called the patient: the number on laptop A answers');
      await form.getByTestId('merge-submit').click();
      await panel.getByTestId('conflicts-notice').waitFor({ timeout: SLOW });
      await card.waitFor({ state: 'detached', timeout: SLOW });
    });

    await a.step('both sync: the conflicts are gone on both, which show the merged visit and the chosen phone', async () => {
      env = a;
      await syncUntil(a.page, (s) => s.pending === 0, 'A did not send its merge');
      env = b;
      await syncUntil(b.page, (s) => s.pending === 0 && s.conflicts === 0, 'B still has a conflict');
      env = a;
      await syncUntil(a.page, (s) => s.conflicts === 0 && s.pending === 0, 'A still has a conflict');
      for (const x of [a, b]) {
        env = x;
        await x.page.locator('[data-testid="sync-status"][data-syncing="false"]').waitFor({ timeout: SLOW });
        await x.page.getByTestId('sync-conflicts').waitFor({ state: 'detached', timeout: SLOW });
        await openPatient(x.page);
        await x.page.getByTestId('tab-details').click();
        assert.equal((await x.page.getByTestId('patient-phone').innerText()).trim(), PHONE_A);
        const visit = await openVisit(x.page);
        assert.equal(await visit.getByLabel('Presenting complaint').inputValue(), COMPLAINT_B);
        assert.equal(await visit.getByLabel('Plan', { exact: true }).inputValue(), PLAN_A);
        assert.equal(await x.page.getByTestId('patient-conflicts-banner').count(), 0);
      }
    });

    await a.step('no console errors, page errors or CSP violations on either laptop', async () => {
      env = a;
      await a.assertClean();
      env = b;
      await b.assertClean();
    });

    await b.step('the clinic revokes laptop B: at its next sync it is erased, and says so on a page of its own', async () => {
      env = b;
      const { deviceId } = await syncState(b.page);
      assert.notEqual(deviceId, '');
      await server.revoke(deviceId);
      await b.page.locator('[data-testid="sync-status"][data-syncing="false"]').waitFor({ timeout: SLOW });
      await b.page.getByTestId('sync-now').click();
      await b.page.getByTestId('erased').waitFor({ timeout: SLOW });
      assert.notEqual((await b.page.getByTestId('erased-message').innerText()).trim(), '');
      assert.equal(await b.page.locator('button, input, a, [data-testid="topbar"]').count(), 0, 'nothing else on the page');
      await b.shot('sync-erased.png', false);
    });
  } catch (err) {
    const e = await env.failed(err);
    e.message += `\n--- outpost-server log (tail) ---\n${server.log().split('\n').slice(-20).join('\n')}`;
    throw e;
  }
});
