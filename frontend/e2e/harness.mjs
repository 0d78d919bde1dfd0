// Shared plumbing of the end-to-end tests: the harness process, the
// browser, page watchers, the harness's test clock and failure reports.
//
// OUTPOST_HARNESS must be an executable that, run as
//   $OUTPOST_HARNESS --data-dir <dir> --addr 127.0.0.1:0
// prints "listening http://127.0.0.1:PORT" as its first stdout line and serves
// frontend/dist with the same window.go.app.App bindings as the desktop window,
// plus the test-only POST /test/clock {"advanceSeconds": N}.
//
// Optional: CHROMIUM (browser path, default /usr/bin/chromium),
// OUTPOST_SCREENSHOT_DIR (where PNG screenshots are written).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const SLOW = 60_000; // argon2id hashing and the first vault open can take a while

/** The harness path, or a failed assertion that says what to set. */
export function requireHarness() {
  const harness = process.env.OUTPOST_HARNESS;
  assert.ok(
    harness && harness.trim() !== '',
    'OUTPOST_HARNESS is not set. Set it to the path of the Outpost test harness binary ' +
      '(it is started as "$OUTPOST_HARNESS --data-dir <dir> --addr 127.0.0.1:0").',
  );
  return harness;
}

/** Starts the harness and resolves with its base URL once it is listening. */
export function startHarness(executable, dataDir, saveDir) {
  const args = ['--data-dir', dataDir, '--addr', '127.0.0.1:0'];
  if (saveDir) args.push('--save-dir', saveDir);
  const child = spawn(executable, args, {
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

export async function stopHarness(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), 10_000));
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * Starts a harness on a fresh data folder and a headless Chromium on a fresh
 * profile, both removed when the test ends. Returns the page and helpers.
 */
export async function openOutpost(t, name) {
  const harness = requireHarness();
  const shotDir = process.env.OUTPOST_SCREENSHOT_DIR || '';
  if (shotDir) await mkdir(shotDir, { recursive: true });

  const work = await mkdtemp(path.join(tmpdir(), `outpost-${name}-`));
  const dataDir = path.join(work, 'data');
  const profileDir = path.join(work, 'chromium');
  const saveDir = path.join(work, 'saved');
  await mkdir(dataDir);
  await mkdir(profileDir);
  await mkdir(saveDir);

  const h = startHarness(harness, dataDir, saveDir);
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

  // Seconds the backend clock was moved forward (for TOTP codes).
  let clockOffset = 0;
  let stepName = '';

  const env = {
    baseURL,
    page,
    consoleErrors,
    consoleAll,
    pageErrors,
    harnessOutput: h.output,
    /** Where files "saved" through the save dialog land (the harness stands in for the dialog). */
    saveDir,

    /** Saves a screenshot to OUTPOST_SCREENSHOT_DIR, if set. */
    async shot(file, fullPage = true) {
      if (!shotDir) return;
      await page.screenshot({ path: path.join(shotDir, file), fullPage });
    },

    async step(label, fn) {
      stepName = label;
      t.diagnostic(`step: ${label}`);
      await fn();
    },

    /** Moves the backend's clock forward (test-only harness endpoint; called from node, not the page). */
    async advanceClock(seconds) {
      const res = await fetch(`${baseURL}/test/clock`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ advanceSeconds: seconds }),
      });
      assert.ok(res.ok, `POST /test/clock answered ${res.status} ${await res.text().catch(() => '')}`);
      clockOffset += seconds;
    },

    /** The backend's idea of now, in Unix seconds. */
    backendNow() {
      return Date.now() / 1000 + clockOffset;
    },

    /** Asserts there were no console errors, page errors or CSP violations. */
    async assertClean() {
      const csp = await page.evaluate(() => window.__cspViolations ?? []);
      assert.deepEqual(csp, [], 'CSP violations');
      assert.deepEqual(pageErrors, [], 'uncaught page errors');
      assert.deepEqual(consoleErrors, [], 'console errors');
    },

    /** Adds the failing step and the harness's stderr to err, saves failure-<name>.png, and returns err. */
    async failed(err) {
      if (shotDir) await page.screenshot({ path: path.join(shotDir, `failure-${name}.png`), fullPage: true }).catch(() => {});
      const tail = h.output.stderr.split('\n').slice(-30).join('\n');
      err.message = `[step: ${stepName}] ${err.message}\n--- harness stderr (tail) ---\n${tail}`;
      return err;
    },
  };
  return env;
}
