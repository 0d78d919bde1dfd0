// End-to-end test of signed updates in the app (docs/updates.md): a real
// repository made with the real outpost-release (its keys beside it, never
// inside), the harness running "1.0.0" and trusting that repository's
// root. The administrator sets the folder as the repository (a USB
// stick), sees the security release announced with its notes (on the home
// banner and under Administration, Updates), as does a nurse (who is told
// to ask the administrator); the administrator installs it over a stand-in
// program (never the harness) and is told to restart; a day later, moved
// by the harness's /test/clock, the watcher finds the next release by
// itself.
//
// Needs OUTPOST_HARNESS (see harness.mjs). outpost-release: OUTPOST_RELEASE,
// else build/bin/outpost-release (make build), else built here with go.
// Optional: CHROMIUM, OUTPOST_SCREENSHOT_DIR (updates-admin.png,
// updates-banner.png).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SLOW, openOutpost } from './harness.mjs';
import { answerMfa, createUser, enrolMfa, finishEnrolment, firstSignIn, setUpClinic, signOut, submitLogin } from './flows.mjs';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ADMIN = { username: 'admin', name: 'Amina Okafor', password: 'correct horse battery staple' };
const NOTES = 'Fixes a lockout after a password change.\n<b>Install today.</b>';
const NURSE = { username: 'nurse.joy', name: 'Joy Banda', role: 'nurse', temporary: 'Tmp-4821-kestrel-lake', password: 'river stones under a quiet moon' };

/** This machine's platform as releases name it (GOOS-GOARCH). */
function platform() {
  const os = { win32: 'windows', darwin: 'darwin', linux: 'linux' }[process.platform] ?? process.platform;
  const arch = { x64: 'amd64', arm64: 'arm64', ia32: '386' }[process.arch] ?? process.arch;
  return `${os}-${arch}`;
}

async function exists(p) {
  try {
    await access(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The outpost-release binary: given, built by make, or built now. */
async function releaseTool(work) {
  if (process.env.OUTPOST_RELEASE) return process.env.OUTPOST_RELEASE;
  const made = path.join(ROOT, 'build', 'bin', 'outpost-release');
  if (await exists(made)) return made;
  const out = path.join(work, 'outpost-release');
  await run('go', ['build', '-o', out, './backend/cmd/outpost-release'], { cwd: ROOT, timeout: 300_000 });
  return out;
}

test('Outpost: a security release from a folder repository is announced with its notes, installed, and the next found a day later', { timeout: 420_000 }, async (t) => {
  const work = await mkdtemp(path.join(tmpdir(), 'outpost-updates-'));
  t.after(() => rm(work, { recursive: true, force: true }).catch(() => {}));
  const repo = path.join(work, 'usb', 'outpost-updates');
  const keys = path.join(work, 'release-keys');
  const program = path.join(work, 'program', 'outpost');
  const tool = await releaseTool(work);
  const release = (...args) => run(tool, args, { timeout: 120_000 });
  const publish = async (version, { security, notes }) => {
    const bin = path.join(work, `outpost-${version}`);
    await writeFile(bin, `outpost ${version} (test build)\n`);
    const args = ['add', '--repo', repo, '--keys', keys, '--product', 'outpost', '--version', version, '--platform', `${platform()}=${bin}`];
    if (security) args.push('--security');
    if (notes) {
      const f = path.join(work, `notes-${version}.txt`);
      await writeFile(f, notes);
      args.push('--notes', f);
    }
    await release(...args);
  };

  await release('init', '--repo', repo, '--keys', keys);
  await publish('2.0.0', { security: true, notes: NOTES });
  await mkdir(path.dirname(program), { recursive: true });
  await writeFile(program, 'outpost 1.0.0 (stand-in)\n');
  await chmod(program, 0o755);

  // The harness runs as release 1.0.0, trusts this repository's first root
  // and replaces the stand-in program, not itself.
  process.env.OUTPOST_HARNESS_VERSION = '1.0.0';
  process.env.OUTPOST_HARNESS_UPDATE_ROOT = path.join(repo, '1.root.json');
  process.env.OUTPOST_HARNESS_UPDATE_TARGET = program;

  const env = await openOutpost(t, 'updates');
  const { page, baseURL, step, shot } = env;
  let secret = '';

  try {
    await step('set up the clinic and sign in as the administrator', async () => {
      await page.goto(`${baseURL}/`);
      await setUpClinic(page, { clinic: 'Riverside Health Post', admin: ADMIN });
      await submitLogin(page, ADMIN.username, ADMIN.password);
      await page.getByTestId('enroll').waitFor({ timeout: SLOW });
      secret = await enrolMfa(env);
      await finishEnrolment(env, ADMIN, secret);
      await page.getByTestId('nav-admin').waitFor();
      assert.equal(await page.getByTestId('update-banner').count(), 0, 'no banner before a repository is set');
    });

    await step('Administration → Updates: the installed version and no repository yet', async () => {
      await page.getByTestId('nav-admin').click();
      await page.getByTestId('admin-tab-updates').click();
      await page.getByTestId('admin-updates').waitFor();
      assert.equal(await page.getByTestId('updates-installed').innerText(), '1.0.0');
      assert.match(await page.getByTestId('updates-repository').innerText(), /Not set/);
      assert.equal(await page.getByTestId('updates-refreshed').innerText(), 'Never');
    });

    await step('a plain http address is refused with a field message', async () => {
      await page.getByLabel('Repository', { exact: true }).fill('http://updates.example/outpost');
      await page.getByTestId('updates-policy-ask').check();
      await page.getByTestId('updates-save').click();
      assert.match(await page.getByTestId('field-error-repository').innerText(), /https:\/\//);
    });

    await step('the administrator sets the USB folder and sees the security release with its notes', async () => {
      await page.getByLabel('Repository', { exact: true }).fill(repo);
      await page.getByTestId('updates-save').click();
      await page.getByTestId('updates-flash').waitFor();
      const rel = page.getByTestId('updates-available');
      await rel.waitFor({ timeout: SLOW });
      assert.equal(await rel.getAttribute('data-security'), 'true');
      assert.match(await rel.innerText(), /Security update available: Outpost 2\.0\.0/);
      assert.equal(await page.getByTestId('updates-notes').innerText(), NOTES, 'notes are shown as text');
      assert.equal(await rel.locator('b').count(), 0, 'notes are never markup');
      assert.equal(await page.getByTestId('updates-repository').innerText(), repo);
      assert.notEqual(await page.getByTestId('updates-refreshed').innerText(), 'Never');
      assert.equal(await page.getByTestId('updates-expired').count(), 0);
      await shot('updates-admin.png');
    });

    await step('the home banner announces it prominently, with the notes', async () => {
      const banner = page.getByTestId('update-banner');
      await banner.waitFor({ timeout: SLOW });
      assert.equal(await banner.getAttribute('data-kind'), 'security');
      assert.match(await banner.innerText(), /Security update available: Outpost 2\.0\.0/);
      assert.equal(await page.getByTestId('update-banner-notes').innerText(), NOTES);
      const bg = await banner.evaluate((el) => getComputedStyle(el).backgroundColor);
      assert.equal(bg, 'rgb(255, 246, 220)', 'the security banner uses the warning colour');
      await shot('updates-banner.png');
    });

    await step('a nurse sees the security release too, and is told to ask the administrator', async () => {
      await page.getByTestId('nav-account').click(); // Administration opens afresh, on Users
      await createUser(page, NURSE);
      await signOut(page);
      await firstSignIn(page, NURSE);
      const banner = page.getByTestId('update-banner');
      await banner.waitFor({ timeout: SLOW });
      assert.equal(await banner.getAttribute('data-kind'), 'security');
      assert.equal(await page.getByTestId('update-banner-notes').innerText(), NOTES);
      assert.match(await banner.innerText(), /Tell your administrator/);
      assert.equal(await page.getByTestId('update-banner-open').count(), 0);
      assert.equal(await page.getByTestId('nav-admin').count(), 0);
      await signOut(page);
      await submitLogin(page, ADMIN.username, ADMIN.password);
      await answerMfa(env, secret);
      await page.getByTestId('update-banner-open').click();
      await page.getByTestId('admin-updates').waitFor();
      await page.getByTestId('updates-available').waitFor();
    });

    await step('Install replaces the program (verified) and asks for a restart', async () => {
      await page.getByTestId('updates-install').click();
      const restart = page.getByTestId('updates-restart');
      await restart.waitFor({ timeout: SLOW });
      assert.match(await restart.innerText(), /Outpost 2\.0\.0 is installed\. Restart Outpost to finish/);
      assert.equal(await readFile(program, 'utf8'), 'outpost 2.0.0 (test build)\n');
      assert.equal(await readFile(`${program}.previous`, 'utf8'), 'outpost 1.0.0 (stand-in)\n');
      await page.getByTestId('update-banner').filter({ hasText: 'Restart Outpost' }).waitFor({ timeout: SLOW });
    });

    await step('a day later the watcher finds the next release by itself', async () => {
      await publish('2.1.0', { security: false, notes: 'Faster patient search.' });
      await env.advanceClock(25 * 3600);
      // The session ended at its 12-hour limit: sign in again.
      await page.reload();
      await submitLogin(page, ADMIN.username, ADMIN.password);
      await answerMfa(env, secret);
      await page.getByTestId('topbar').waitFor({ timeout: SLOW });
      const rel = page.getByTestId('updates-available');
      // The watcher looks at the clock every second: open Updates afresh until it has checked.
      for (let i = 0; i < 60; i++) {
        await page.getByTestId('nav-account').click();
        await page.getByTestId('nav-admin').click();
        await page.getByTestId('admin-tab-updates').click();
        await page.getByTestId('updates-installed').waitFor();
        if ((await rel.count()) > 0) break;
        await page.waitForTimeout(500);
      }
      await rel.waitFor({ timeout: SLOW });
      assert.equal(await rel.getAttribute('data-security'), 'false');
      assert.match(await rel.innerText(), /Outpost 2\.1\.0/);
      assert.match(await page.getByTestId('updates-restart').innerText(), /Outpost 2\.0\.0 is installed/);
    });

    await env.assertClean();
  } catch (err) {
    throw await env.failed(err);
  }
});
