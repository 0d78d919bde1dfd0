// End-to-end test of the audit viewer against the real Go backend: a
// clinician registers a patient; a security officer (who must set up
// two-step sign-in first) finds the clinician's events by user and by
// action, sorts by a column from the keyboard, pages, and exports the
// filtered trail as CSV and as FHIR AuditEvent NDJSON through the save
// dialog; the exports themselves are in the trail.
//
// Needs OUTPOST_HARNESS (see harness.mjs). Optional: CHROMIUM,
// OUTPOST_SCREENSHOT_DIR (audit.png).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { SLOW, openOutpost } from './harness.mjs';
import { createUser, enrolMfa, finishEnrolment, firstSignIn, setUpClinic, signOut, submitLogin } from './flows.mjs';

const ADMIN = { username: 'admin', name: 'Amina Okafor', password: 'correct horse battery staple' };
const OFFICER = {
  username: 'sec.officer',
  name: 'Kwame Asante',
  role: 'Security officer',
  temporary: 'Tmp-4420-osprey-cove',
  password: 'seven quiet owls above the ridge',
};
const CLINICIAN = {
  username: 'dr.sam',
  name: 'Sam Osei',
  role: 'Clinician',
  temporary: 'Tmp-7731-heron-bay',
  password: 'a long walk by the green river',
};
const PATIENT = { family: 'Banda', given: 'Grace' };

/** RFC 4180 CSV (quoted fields, doubled quotes, CRLF) into rows of cells. */
function parseCSV(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  assert.equal(cell, '', 'the CSV ends with CRLF');
  assert.equal(row.length, 0, 'the CSV ends with CRLF');
  return rows;
}

test('Outpost audit trail: filter, sort, page, export CSV and FHIR AuditEvent', { timeout: 300_000 }, async (t) => {
  const env = await openOutpost(t, 'audit');
  const { page, baseURL, saveDir, step, shot } = env;
  const text = async (locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim();
  const cells = async (testid) => (await page.getByTestId(testid).allInnerTexts()).map((s) => s.trim());
  /** The numbers in "Events A–B of N". */
  const count = async () => {
    const s = await text(page.getByTestId('audit-count'));
    const m = /^Events (\d+)–(\d+) of (\d+)$/.exec(s);
    assert.ok(m, `count text ${JSON.stringify(s)}`);
    return { first: Number(m[1]), last: Number(m[2]), total: Number(m[3]) };
  };
  /** Fills the filter form (every field, '' clears) and waits for the table to follow. */
  const filter = async ({ username = '', action = '', from = '', to = '' }) => {
    const form = page.getByTestId('audit-filter');
    await form.getByLabel('User').fill(username);
    await form.getByLabel('Action').fill(action);
    await form.getByLabel('From').fill(from);
    await form.getByLabel('To').fill(to);
    const answered = page.waitForResponse((r) => r.url().endsWith('/call') && (r.request().postData() ?? '').includes('"ListAudit"'));
    await page.getByTestId('audit-search').click();
    await answered;
    await page.locator('[data-testid="audit-table"][aria-busy="false"]').waitFor();
  };
  /** The file named in "Saved as NAME." and its text in the harness's save folder. */
  const savedFile = async (before) => {
    const saved = page.getByTestId('audit-export-saved');
    await page.waitForFunction((b) => {
      const el = document.querySelector('[data-testid="audit-export-saved"]');
      return el && el.textContent.trim() !== b;
    }, before, { timeout: SLOW });
    const m = /^Saved as (\S+)\.$/.exec(await text(saved));
    assert.ok(m, `"Saved as NAME." expected, got ${JSON.stringify(await text(saved))}`);
    assert.ok((await readdir(saveDir)).includes(m[1]), `${m[1]} is in the save folder`);
    return { name: m[1], text: await readFile(path.join(saveDir, m[1]), 'utf8') };
  };

  try {
    await step('set up the clinic; the administrator enrols MFA and creates a security officer and a clinician', async () => {
      await page.goto(`${baseURL}/`);
      await setUpClinic(page, { clinic: 'Hillside Health Post', admin: ADMIN });
      await submitLogin(page, ADMIN.username, ADMIN.password);
      await page.getByTestId('enroll').waitFor({ timeout: SLOW });
      const secret = await enrolMfa(env);
      await finishEnrolment(env, ADMIN, secret);
      await createUser(page, OFFICER);
      await createUser(page, CLINICIAN);
      // An administrator does not read the audit trail, but manages its copies off the laptop.
      await page.getByTestId('nav-audit').click();
      await page.getByTestId('audit-copies').waitFor({ timeout: SLOW });
      assert.equal(await page.getByTestId('audit-area').count(), 0, 'no audit viewer for an administrator');
      await signOut(page);
    });

    await step('the clinician registers a patient', async () => {
      await firstSignIn(page, CLINICIAN);
      assert.equal(await page.getByTestId('nav-audit').count(), 0, 'a clinician has no audit trail');
      await page.getByTestId('register-button').click();
      await page.getByTestId('patient-form').waitFor();
      await page.getByLabel('Family name').fill(PATIENT.family);
      await page.getByLabel('Given name').fill(PATIENT.given);
      await page.getByLabel('Sex').selectOption('female');
      await page.getByLabel('Date of birth', { exact: true }).fill('1975-06-01');
      await page.getByTestId('patient-save').click();
      await page.getByTestId('patient-view').waitFor({ timeout: SLOW });
      await signOut(page);
    });

    await step('the officer signs in for the first time: new password, then two-step sign-in', async () => {
      await submitLogin(page, OFFICER.username, OFFICER.temporary);
      const form = page.getByTestId('password-form');
      await form.waitFor({ timeout: SLOW });
      await form.getByLabel('Current (temporary) password').fill(OFFICER.temporary);
      await form.getByLabel('New password', { exact: true }).fill(OFFICER.password);
      await form.getByLabel('Confirm new password').fill(OFFICER.password);
      await page.getByTestId('password-submit').click();
      await page.getByTestId('login-form').waitFor({ timeout: SLOW });
      await submitLogin(page, OFFICER.username, OFFICER.password);
      await page.getByTestId('enroll').waitFor({ timeout: SLOW });
      const secret = await enrolMfa(env);
      await finishEnrolment(env, OFFICER, secret);
    });

    await step('the audit trail opens on every event, newest first', async () => {
      await page.getByTestId('nav-audit').click();
      await page.getByTestId('audit-area').waitFor();
      await page.getByTestId('audit-row').first().waitFor({ timeout: SLOW });
      const c = await count();
      assert.equal(c.first, 1);
      assert.ok(c.total > 10, `a fresh clinic already has many events (${c.total})`);
      const seqs = (await page.getByTestId('audit-row').evaluateAll((rows) => rows.map((r) => Number(r.dataset.seq))));
      assert.deepEqual(seqs, [...seqs].sort((a, b) => b - a), 'newest first');
      assert.equal(await page.locator('th[aria-sort]').count(), 1);
      assert.equal(await page.locator('th[aria-sort="descending"]').innerText().then((s) => s.replace(/[▲▼]/g, '').trim()), 'When');
    });

    await step("filter by the clinician's username, then by action", async () => {
      await filter({ username: CLINICIAN.username });
      const c = await count();
      assert.ok(c.total >= 3, `the clinician's sign-ins and registration (${c.total})`);
      const names = await cells('audit-username');
      assert.equal(names.length, c.total);
      assert.deepEqual([...new Set(names)], [CLINICIAN.username]);
      const acts = await cells('audit-action');
      assert.ok(acts.includes('patient.register'), `actions ${acts}`);
      assert.ok(acts.includes('user.login'), `actions ${acts}`);

      await filter({ username: CLINICIAN.username, action: 'patient.register' });
      assert.deepEqual(await cells('audit-action'), ['patient.register']);
      const patient = (await cells('audit-patient'))[0];
      assert.ok(patient.length > 0, 'the registration names the patient by id');
      assert.doesNotMatch(await page.getByTestId('audit-table').innerText(), /banda|grace/i, 'ids only, never patient data');

      await filter({ action: 'patient.*', from: '2000-01-01', to: '2999-12-31' });
      assert.ok((await cells('audit-action')).every((a) => a.startsWith('patient.')));
      // A bad date is a field error, and the table stays.
      await page.getByTestId('audit-filter').getByLabel('From').fill('yesterday');
      await page.getByTestId('audit-search').click();
      await page.getByTestId('field-error-from').waitFor();
      await filter({ username: CLINICIAN.username });
      assert.equal(await page.getByTestId('field-error-from').count(), 0);
    });

    await step('sort by action from the keyboard; again turns it around', async () => {
      const header = page.getByTestId('audit-sort-action');
      await header.focus();
      await page.keyboard.press('Enter');
      await page.locator('th[aria-sort="ascending"]').filter({ has: header }).waitFor();
      let acts = await cells('audit-action');
      assert.deepEqual(acts, [...acts].sort(), 'actions ascending');
      assert.ok(await header.evaluate((el) => el === document.activeElement), 'the focus stays on the header');
      await page.keyboard.press('Space');
      await page.locator('th[aria-sort="descending"]').filter({ has: header }).waitFor();
      acts = await cells('audit-action');
      assert.deepEqual(acts, [...acts].sort().reverse(), 'actions descending');
      await shot('audit.png');
    });

    await step('page through every event, older and back', async () => {
      // Back to time order (a new column: newest first).
      const when = page.getByTestId('audit-sort-at');
      await when.click();
      await page.locator('th[aria-sort="descending"]').filter({ has: when }).waitFor();
      // Every look is an event: look until there is more than one page.
      while ((await count()).total <= 50) await filter({});
      const newer = page.getByTestId('audit-prev');
      const older = page.getByTestId('audit-next');
      assert.equal((await newer.innerText()).trim(), 'Newer');
      assert.equal((await older.innerText()).trim(), 'Older');
      assert.equal(await newer.isDisabled(), true);
      const top = await page.getByTestId('audit-row').first().getAttribute('data-seq');
      await older.click();
      await page.waitForFunction(() => /^Events 51–/.test(document.querySelector('[data-testid="audit-count"]').textContent.trim()));
      const next = await page.getByTestId('audit-row').first().getAttribute('data-seq');
      assert.ok(Number(next) < Number(top), 'older events on the next page');
      await newer.click();
      await page.waitForFunction(() => /^Events 1–/.test(document.querySelector('[data-testid="audit-count"]').textContent.trim()));
    });

    await step("export the clinician's events as CSV and as FHIR AuditEvent", async () => {
      await filter({ username: CLINICIAN.username });
      const { total } = await count();
      await page.getByTestId('audit-export-csv').click();
      const csvFile = await savedFile('');
      assert.match(csvFile.name, /^outpost-audit-\d{4}-\d{2}-\d{2}\.csv$/);
      const rows = parseCSV(csvFile.text);
      const header = rows[0];
      assert.deepEqual(header.slice(0, 6), ['seq', 'at', 'username', 'roles', 'action', 'outcome']);
      assert.ok(header.includes('hash') && header.includes('prev_hash') && header.includes('workstation'));
      assert.equal(rows.length - 1, total, 'every event the filter selects, not only the page');
      const col = (name) => header.indexOf(name);
      assert.deepEqual([...new Set(rows.slice(1).map((r) => r[col('username')]))], [CLINICIAN.username]);
      assert.ok(rows.some((r) => r[col('action')] === 'patient.register' && r[col('patient_id')] !== ''));
      assert.ok(rows.slice(1).every((r) => /^[0-9a-f]{64}$/.test(r[col('hash')])));
      assert.doesNotMatch(csvFile.text, /banda|grace/i);

      await page.getByTestId('audit-export-fhir').click();
      const fhirFile = await savedFile(`Saved as ${csvFile.name}.`);
      assert.match(fhirFile.name, /\.ndjson$/);
      const lines = fhirFile.text.trimEnd().split('\n').map((l) => JSON.parse(l));
      assert.equal(lines.length, total);
      for (const ev of lines) {
        assert.equal(ev.resourceType, 'AuditEvent');
        assert.equal(ev.agent[0].who.display, CLINICIAN.username);
        assert.equal(ev.agent[0].requestor, true);
        assert.ok(['C', 'R', 'U', 'D', 'E'].includes(ev.action));
        assert.ok(ev.extension.some((x) => x.url === 'urn:outpost:fhir:audit-hash' && /^[0-9a-f]{64}$/.test(x.valueString)));
      }
      assert.ok(lines.some((ev) => ev.entity?.some((en) => /^Patient\//.test(en.what.reference ?? ''))));
    });

    await step('the exports are in the trail', async () => {
      await filter({ username: OFFICER.username, action: 'audit.export' });
      assert.deepEqual(await cells('audit-action'), ['audit.export', 'audit.export']);
      await filter({ username: OFFICER.username, action: 'audit.read' });
      assert.ok((await count()).total >= 5, 'every look at the trail is recorded');
    });

    await step('a sealed copy saved to removable media and read back is confirmed off the laptop', async () => {
      const copies = page.getByTestId('audit-copies');
      await copies.getByTestId('copies-state').waitFor({ timeout: SLOW });
      assert.match(await text(copies.getByTestId('copies-state')), /No copy has been confirmed/);
      await copies.locator('#copies-seal-passphrase').fill('river stones at dawn');
      await copies.locator('#copies-seal-repeat').fill('river stones at dawn');
      await copies.getByTestId('copies-seal-submit').click();
      await copies.getByTestId('copies-sealed').waitFor({ timeout: SLOW });
      const m = /Saved as (\S+\.sealed)\./.exec(await text(copies.getByTestId('copies-sealed')));
      assert.ok(m, 'the sealed copy is named');
      const sealed = await readFile(path.join(saveDir, m[1]));
      assert.ok(!sealed.includes(Buffer.from(CLINICIAN.username)), 'the copy is encrypted');
      await copies.getByTestId('copies-file').setInputFiles({ name: m[1], mimeType: 'application/octet-stream', buffer: sealed });
      await copies.locator('#copies-confirm-passphrase').fill('river stones at dusk');
      await copies.getByTestId('copies-confirm-submit').click();
      await copies.getByText('the passphrase is wrong').waitFor({ timeout: SLOW });
      await copies.locator('#copies-confirm-passphrase').fill('river stones at dawn');
      await copies.getByTestId('copies-confirm-submit').click();
      await copies.getByTestId('copies-confirmed').waitFor({ timeout: SLOW });
      assert.match(await text(copies.getByTestId('copies-state')), /^Last copy confirmed .*: events up to No\. \d+ are off this laptop\.$/);
    });

    await step('no console errors, page errors or CSP violations', async () => {
      await env.assertClean();
    });
  } catch (err) {
    throw await env.failed(err);
  }
});
