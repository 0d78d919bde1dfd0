// End-to-end test of the chart against the real Go backend: a clinician
// opens a visit, enters vital signs (one out of range, then fixed), records
// an allergy, is warned when prescribing a drug that matches it, signs the
// visit, and sees the vital signs plotted; then asks for a prescription to
// be deleted, which a nurse approves (two people), and restores it.
//
// Needs OUTPOST_HARNESS (see harness.mjs). Optional: CHROMIUM,
// OUTPOST_SCREENSHOT_DIR (chart-summary.png, visit.png, vitals-plot.png).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SLOW, openOutpost } from './harness.mjs';
import { createUser, enrolMfa, finishEnrolment, firstSignIn, setUpClinic, signOut, submitLogin } from './flows.mjs';

const ADMIN = { username: 'admin', name: 'Amina Okafor', password: 'correct horse battery staple' };
const CLINICIAN = {
  username: 'dr.sam',
  name: 'Sam Osei',
  role: 'Clinician',
  temporary: 'Tmp-7731-heron-bay',
  password: 'a long walk by the green river',
};
const NURSE = {
  username: 'nurse.ada',
  name: 'Ada Phiri',
  role: 'Nurse',
  temporary: 'Tmp-5519-kestrel-dam',
  password: 'lanterns over the quiet harbour',
};
const PATIENT = { family: 'Banda', given: 'Grace' };
const PATIENT_TEXT = /banda|grace/i;
const TEMPERATURE_MESSAGE = 'Enter a plausible value, from 30 to 45 °C.';

test('Outpost chart: visit, vital signs, allergy warning, signing, plots', { timeout: 300_000 }, async (t) => {
  const env = await openOutpost(t, 'chart');
  const { page, baseURL, consoleAll, step, shot } = env;
  const text = async (testid, scope = page) => (await scope.getByTestId(testid).first().innerText()).replace(/\s+/g, ' ').trim();

  try {
    await step('set up the clinic; the administrator enrols MFA and creates a clinician and a nurse', async () => {
      await page.goto(`${baseURL}/`);
      await setUpClinic(page, { clinic: 'Lakeside Health Post', admin: ADMIN });
      await submitLogin(page, ADMIN.username, ADMIN.password);
      await page.getByTestId('enroll').waitFor({ timeout: SLOW });
      const secret = await enrolMfa(env);
      await finishEnrolment(env, ADMIN, secret);
      await createUser(page, CLINICIAN);
      await createUser(page, NURSE);
      await signOut(page);
    });

    await step('the clinician signs in and registers a patient', async () => {
      await firstSignIn(page, CLINICIAN);
      await page.getByTestId('search-input').waitFor({ timeout: SLOW });
      await page.getByTestId('register-button').click();
      await page.getByTestId('patient-form').waitFor();
      await page.getByLabel('Family name').fill(PATIENT.family);
      await page.getByLabel('Given name').fill(PATIENT.given);
      await page.getByLabel('Sex').selectOption('female');
      await page.getByLabel('Date of birth', { exact: true }).fill('1975-06-01');
      await page.getByTestId('patient-save').click();
      await page.getByTestId('patient-view').waitFor({ timeout: SLOW });
      assert.equal((await page.getByTestId('patient-name').innerText()).trim(), 'BANDA, Grace');
      const banner = page.locator('[data-testid="allergy-banner"][data-state="none"]');
      await banner.waitFor({ timeout: SLOW });
      assert.equal(await text('allergy-banner'), 'No known allergies recorded');
    });

    await step('open a visit and write the note', async () => {
      await page.getByTestId('tab-visits').click();
      await page.getByTestId('visits-empty').waitFor();
      await page.getByTestId('open-visit').click();
      const visit = page.locator('[data-testid="visit-form"][data-status="open"]');
      await visit.waitFor({ timeout: SLOW });
      await visit.getByLabel('Presenting complaint').fill('Fever and headache for 3 days');
      await visit.getByLabel('Findings').fill('Febrile, alert, no neck stiffness');
      await visit.getByLabel('Assessment').fill('Suspected malaria');
      await visit.getByLabel('Plan').fill('Rapid test, antipyretics, review in 2 days');
    });

    await step('vital signs: temperature 60 is refused beside its field', async () => {
      await page.getByTestId('vital-systolic').fill('128');
      await page.getByTestId('vital-diastolic').fill('84');
      await page.getByTestId('vital-pulse').fill('96');
      await page.getByTestId('vital-temperature').fill('60');
      await page.getByTestId('vital-weight').fill('64');
      await page.getByTestId('vital-height').fill('162');
      assert.equal((await page.getByTestId('bmi-value').innerText()).trim(), '24.4', 'BMI is computed from weight and height');
      const unit = page.locator('[data-vital="temperature"] [data-testid="vital-unit"]');
      assert.equal((await unit.innerText()).trim(), '°C');

      await page.getByTestId('visit-save').click();
      const err = page.getByTestId('field-error-vital-temperature');
      await err.waitFor({ timeout: SLOW });
      assert.equal((await err.innerText()).trim(), TEMPERATURE_MESSAGE);
      assert.equal(await page.getByTestId('vital-temperature').getAttribute('aria-invalid'), 'true');
      assert.equal(await page.getByTestId('vital-temperature').inputValue(), '60');
      // The plausible values were saved, BMI with weight and height.
      const recorded = page.getByTestId('vital-recorded');
      await page.locator('[data-testid="vital-recorded"][data-vital="bmi"]').waitFor({ timeout: SLOW });
      const vitals = await recorded.evaluateAll((els) => els.map((el) => el.getAttribute('data-vital')).sort());
      assert.deepEqual(vitals, ['bmi', 'diastolic', 'height', 'pulse', 'systolic', 'weight']);
      assert.match(await page.locator('[data-testid="vital-recorded"][data-vital="bmi"]').innerText(), /24\.4 kg\/m²/);
    });

    await step('fixed to 38.4 and saved', async () => {
      await page.getByTestId('vital-temperature').fill('38.4');
      assert.equal(await page.getByTestId('field-error-vital-temperature').count(), 0, 'the message goes when the value is changed');
      await page.getByTestId('visit-save').click();
      await page.getByTestId('visit-flash').waitFor({ timeout: SLOW });
      assert.equal(await text('visit-flash'), 'Visit saved. Dismiss');
      await page.locator('[data-testid="vital-recorded"][data-vital="temperature"]').waitFor({ timeout: SLOW });
      assert.match(await page.locator('[data-testid="vital-recorded"][data-vital="temperature"]').innerText(), /38\.4 °C/);
      assert.equal(await page.getByTestId('field-error-vital-temperature').count(), 0);
      assert.equal(await page.getByTestId('vital-temperature').inputValue(), '');
    });

    await step('record an allergy to Penicillin on the Summary tab', async () => {
      await page.getByTestId('tab-summary').click();
      await page.getByTestId('add-allergy').click();
      const form = page.getByTestId('allergy-form');
      await form.waitFor();
      await form.getByLabel('Substance').fill('Penicillin');
      await form.getByLabel('Reaction').fill('rash');
      await form.getByLabel('Severity').selectOption('moderate');
      await page.getByTestId('allergy-save').click();
      await page.locator('[data-testid="allergy-banner"][data-state="some"]').waitFor({ timeout: SLOW });
      assert.equal(await text('allergy-banner'), 'Allergies: Penicillin (rash, moderate)');
      await page.getByTestId('chart-flash').waitFor();
    });

    await step('prescribing Penicillin V 250 mg warns and names the allergy; Cancel prescribes nothing', async () => {
      await page.getByTestId('tab-visits').click();
      const visit = page.locator('[data-testid="visit-form"][data-status="open"]');
      await visit.waitFor();
      assert.equal(await visit.getByLabel('Presenting complaint').inputValue(), 'Fever and headache for 3 days', 'the visit stayed open');
      const rx = page.getByTestId('prescription-form');
      await rx.getByLabel('Drug').fill('Penicillin V 250 mg');
      await rx.getByLabel('Dose').fill('1 tablet');
      await rx.getByLabel('Route').fill('oral');
      await rx.getByLabel('Frequency').fill('four times daily');
      await rx.getByLabel('Duration').fill('5 days');
      await page.getByTestId('prescribe-submit').click();

      const dialog = page.getByTestId('allergy-warning');
      await dialog.waitFor({ timeout: SLOW });
      assert.equal(await dialog.getAttribute('role'), 'alertdialog');
      const items = await dialog.getByTestId('allergy-warning-item').allInnerTexts();
      assert.equal(items.length, 1);
      assert.match(items[0], /Penicillin/);
      assert.match(items[0], /rash/);
      assert.match(items[0], /moderate/);
      assert.equal((await dialog.getByTestId('allergy-warning-drug').innerText()).trim(), 'Penicillin V 250 mg');
      await shot('allergy-warning.png', false);

      await dialog.getByTestId('allergy-warning-cancel').click();
      await dialog.waitFor({ state: 'detached' });
      assert.equal(await page.getByTestId('prescription-item').count(), 0, 'nothing was prescribed');
    });

    await step('a drug without a matching allergy is prescribed at once', async () => {
      const rx = page.getByTestId('prescription-form');
      await rx.getByLabel('Drug').fill('Paracetamol 500 mg');
      await rx.getByLabel('Dose').fill('2 tablets');
      await rx.getByLabel('Frequency').fill('three times daily');
      await rx.getByLabel('Duration').fill('3 days');
      await page.getByTestId('prescribe-submit').click();
      const item = page.getByTestId('prescription-item').filter({ hasText: 'Paracetamol 500 mg' });
      await item.waitFor({ timeout: SLOW });
      assert.equal(await page.getByTestId('allergy-warning').count(), 0);
      await shot('visit.png');
    });

    await step('close and sign the visit: it becomes read-only', async () => {
      await page.getByTestId('visit-sign').click();
      await page.getByTestId('sign-confirm').waitFor();
      await page.getByTestId('sign-confirm-yes').click();
      const signed = page.locator('[data-testid="visit-form"][data-status="signed"]');
      await signed.waitFor({ timeout: SLOW });
      assert.match(await text('visit-signed-by'), /^Signed by dr\.sam on /);
      assert.equal(await text('visit-text-assessment'), 'Suspected malaria');
      assert.equal(await page.getByTestId('visit-save').count(), 0);
      assert.equal(await page.getByTestId('prescription-form').count(), 0);
      assert.equal(await signed.locator('textarea, input').count(), 0, 'a signed visit has no inputs');
      await page.getByTestId('visit-amend').waitFor();
    });

    await step('the Summary tab shows the visit, the medication and the latest vital signs', async () => {
      await page.getByTestId('tab-summary').click();
      await page.locator('[data-testid="summary-visit"][data-status="signed"]').waitFor({ timeout: SLOW });
      assert.match(await text('medication-item'), /Paracetamol 500 mg/);
      assert.equal(await page.getByTestId('medication-item').filter({ hasText: 'Penicillin' }).count(), 0);
      const temp = page.locator('[data-testid="vital-latest"][data-vital="temperature"]');
      assert.equal((await temp.getByTestId('vital-latest-value').innerText()).trim(), '38.4 °C');
      const bp = page.locator('[data-testid="vital-latest"][data-vital="systolic"]');
      assert.equal((await bp.getByTestId('vital-latest-value').innerText()).trim(), '128 mmHg');
      await shot('chart-summary.png');
    });

    await step('the Vitals tab plots the series', async () => {
      await page.getByTestId('tab-vitals').click();
      await page.getByTestId('vitals-plots').waitFor();
      const temp = page.locator('[data-testid="vital-plot"][data-plot="temperature"]');
      await temp.waitFor({ timeout: SLOW });
      assert.equal(await temp.getAttribute('data-points'), '1');
      await temp.locator('canvas').first().waitFor();
      const size = await temp.locator('canvas').first().evaluate((c) => ({ w: c.width, h: c.height }));
      assert.ok(size.w > 100 && size.h > 100, `the canvas has a size: ${JSON.stringify(size)}`);
      const bp = page.locator('[data-testid="vital-plot"][data-plot="bp"]');
      assert.equal(await bp.getAttribute('data-points'), '2', 'systolic and diastolic');
      await bp.locator('canvas').first().waitFor();
      await page.locator('[data-testid="vital-plot"][data-plot="bmi"] canvas').first().waitFor();
      assert.match(await temp.getByTestId('vital-plot-canvas').getAttribute('aria-label'), /latest: Temperature 38\.4 °C/);
      await shot('vitals-plot.png');
    });

    await step('the history of a record: who wrote it, when, and what it held', async () => {
      await page.getByTestId('tab-summary').click();
      const med = page.getByTestId('medication-item').filter({ hasText: 'Paracetamol 500 mg' });
      await med.getByTestId('record-history-button').click();
      const hist = med.getByTestId('record-history');
      await hist.getByTestId('history-version').first().waitFor({ timeout: SLOW });
      assert.equal(await hist.getByTestId('history-version').count(), 1);
      assert.equal((await hist.getByTestId('history-author').innerText()).trim(), 'dr.sam');
      assert.match(await hist.locator('[data-testid="diff-row"][data-field="drug.text"]').innerText(), /Paracetamol 500 mg/);
      await med.getByTestId('record-history-button').click();
    });

    await step('the clinician asks for the prescription to be deleted; it needs a second person', async () => {
      const med = page.getByTestId('medication-item').filter({ hasText: 'Paracetamol 500 mg' });
      await med.getByTestId('record-delete-button').click();
      await med.getByRole('button', { name: 'Ask for deletion' }).click();
      assert.match(await med.getByTestId('field-error-reason').innerText(), /at least 5 characters/);
      await med.getByLabel('Why should this record be deleted?').fill('Prescribed on the wrong chart');
      await med.getByRole('button', { name: 'Ask for deletion' }).click();
      await med.getByTestId('record-delete-requested').waitFor({ timeout: SLOW });
      await page.getByTestId('nav-deletions').click();
      const req = page.getByTestId('record-deletion-request');
      await req.waitFor({ timeout: SLOW });
      assert.match(await req.getByTestId('record-deletion-label').innerText(), /^Medication: Paracetamol 500 mg/);
      await req.getByTestId('record-deletion-own').waitFor();
      assert.equal(await req.getByTestId('record-deletion-approve').count(), 0, 'the requester cannot approve');
      await signOut(page);
    });

    await step('a nurse approves the deletion: the prescription leaves the chart', async () => {
      await firstSignIn(page, NURSE);
      await page.getByTestId('nav-deletions').click();
      const req = page.getByTestId('record-deletion-request');
      await req.waitFor({ timeout: SLOW });
      assert.match(await req.getByTestId('record-deletion-patient').innerText(), /^BANDA, Grace \([A-Z0-9]+-\d+\)$/);
      assert.equal((await req.getByTestId('record-deletion-reason').innerText()).trim(), 'Prescribed on the wrong chart');
      await req.getByTestId('record-deletion-approve').click();
      await shot('deletions.png', false);
      await req.getByTestId('record-deletion-confirm').click();
      await page.getByTestId('record-deletions-flash').waitFor({ timeout: SLOW });
      await page.getByTestId('record-deletions-empty').waitFor();
      const gone = page.getByTestId('deleted-record');
      await gone.waitFor();
      assert.match(await gone.innerText(), /approved by nurse\.ada/);

      await page.getByTestId('nav-patients').click();
      await page.getByTestId('search-input').fill('banda');
      await page.getByTestId('search-result').first().click();
      await page.getByTestId('summary-medications').waitFor({ timeout: SLOW });
      await page.getByTestId('chart-summary').getByText('No current medications recorded.').waitFor({ timeout: SLOW });
    });

    await step('the nurse restores it with a reason: it is back on the chart', async () => {
      await page.getByTestId('nav-deletions').click();
      const gone = page.getByTestId('deleted-record');
      await gone.getByTestId('deleted-record-restore').click();
      await gone.getByLabel('Why restore it?').fill('It was the right chart after all');
      await gone.getByRole('button', { name: 'Restore' }).click();
      await page.getByTestId('deleted-records-empty').waitFor({ timeout: SLOW });
      await page.getByTestId('nav-patients').click();
      await page.getByTestId('search-input').fill('banda');
      await page.getByTestId('search-result').first().click();
      await page.getByTestId('medication-item').filter({ hasText: 'Paracetamol 500 mg' }).waitFor({ timeout: SLOW });
      const med = page.getByTestId('medication-item').filter({ hasText: 'Paracetamol 500 mg' });
      await med.getByTestId('record-history-button').click();
      const hist = med.getByTestId('record-history');
      await hist.getByTestId('history-version').first().waitFor({ timeout: SLOW });
      assert.equal(await hist.getByTestId('history-version').count(), 3, 'created, deleted, restored');
      assert.equal(await hist.getByTestId('history-deleted').count(), 1);
      assert.match(await hist.getByTestId('history-reason').first().innerText(), /It was the right chart after all/);
    });

    await step('no patient data in browser storage or the console; sign-out clears the chart', async () => {
      const stored = await page.evaluate(async () => {
        const dbs = typeof indexedDB !== 'undefined' && indexedDB.databases ? await indexedDB.databases() : [];
        return { local: localStorage.length, session: sessionStorage.length, idb: dbs.length };
      });
      assert.deepEqual(stored, { local: 0, session: 0, idb: 0 });
      assert.deepEqual(consoleAll.filter((m) => PATIENT_TEXT.test(m) || /penicillin|malaria/i.test(m)), [], 'patient data was written to the console');
      await signOut(page);
      assert.doesNotMatch(await page.locator('body').innerText(), /banda|penicillin|malaria/i);
    });

    await step('no console errors, page errors or CSP violations', async () => {
      await env.assertClean();
    });
  } catch (err) {
    throw await env.failed(err);
  }
});
