// End-to-end test of documents, the printable summary and FHIR import and
// export against the real Go backend: a clinician adds a PNG (shown inline)
// and a PDF (never rendered, saved on request), is refused a text file named
// .png, prints the summary, exports the chart, imports a Synthea Bundle with
// a progress bar and a report (twice: the second time nothing is new), and
// opens the imported patient's chart.
//
// Needs OUTPOST_HARNESS (see harness.mjs). Optional: CHROMIUM,
// OUTPOST_SCREENSHOT_DIR (documents.png, import-report.png).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SLOW, openOutpost } from './harness.mjs';
import { createUser, enrolMfa, finishEnrolment, firstSignIn, setUpClinic, signOut, submitLogin } from './flows.mjs';

const ADMIN = { username: 'admin', name: 'Amina Okafor', password: 'correct horse battery staple' };
const CLINICIAN = {
  username: 'dr.ama',
  name: 'Ama Mensah',
  role: 'Clinician',
  temporary: 'Tmp-5512-otter-cove',
  password: 'slow boats on a wide brown river',
};

// A 2×2 PNG and a one-page PDF, both complete and valid.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==', 'base64');
const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n' +
    '3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>\nendobj\nxref\n0 4\n0000000000 65535 f \n' +
    '0000000009 00000 n \n0000000058 00000 n \n0000000115 00000 n \ntrailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n186\n%%EOF\n',
  'latin1',
);
const NOT_A_DOCUMENT = 'Only PDF, PNG and JPEG documents are accepted.';

const SAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../testdata/fhir/samples');

test('Outpost documents, printable summary, FHIR import and export', { timeout: 300_000 }, async (t) => {
  const env = await openOutpost(t, 'documents');
  const { page, baseURL, saveDir, step, shot } = env;
  const text = async (locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim();
  /** The file named in "Saved as NAME." and its bytes in the harness's save folder. */
  const savedFile = async (locator) => {
    await locator.waitFor({ timeout: SLOW });
    const m = /^Saved as (\S+)\.$/.exec(await text(locator));
    assert.ok(m, `"Saved as NAME." expected, got ${JSON.stringify(await text(locator))}`);
    assert.ok((await readdir(saveDir)).includes(m[1]), `${m[1]} is in the save folder`);
    return { name: m[1], bytes: await readFile(path.join(saveDir, m[1])) };
  };

  try {
    await step('set up the clinic; the administrator enrols MFA and creates a clinician', async () => {
      await page.goto(`${baseURL}/`);
      await setUpClinic(page, { clinic: 'Riverside Health Post', admin: ADMIN });
      await submitLogin(page, ADMIN.username, ADMIN.password);
      await page.getByTestId('enroll').waitFor({ timeout: SLOW });
      const secret = await enrolMfa(env);
      await finishEnrolment(env, ADMIN, secret);
      await createUser(page, CLINICIAN);
      await signOut(page);
    });

    await step('the clinician signs in and registers a patient', async () => {
      await firstSignIn(page, CLINICIAN);
      await page.getByTestId('search-input').waitFor({ timeout: SLOW });
      await page.getByTestId('register-button').click();
      await page.getByTestId('patient-form').waitFor();
      await page.getByLabel('Family name').fill('Phiri');
      await page.getByLabel('Given name').fill('Esther');
      await page.getByLabel('Sex').selectOption('female');
      await page.getByLabel('Date of birth', { exact: true }).fill('1968-03-12');
      await page.getByTestId('patient-save').click();
      await page.getByTestId('patient-view').waitFor({ timeout: SLOW });
      assert.equal((await page.getByTestId('patient-name').innerText()).trim(), 'PHIRI, Esther');
    });

    await step('add a PNG: it is shown inline', async () => {
      await page.getByTestId('tab-documents').click();
      await page.getByTestId('documents-empty').waitFor({ timeout: SLOW });
      await page.getByTestId('document-title').fill('Wound, left shin');
      await page.getByTestId('document-file').setInputFiles({ name: 'IMG_0042.png', mimeType: 'image/png', buffer: PNG });
      await page.getByTestId('document-save').click();
      await page.getByTestId('document-flash').waitFor({ timeout: SLOW });
      assert.match(await text(page.getByTestId('document-flash')), /Document added: Wound, left shin\./);
      const item = page.locator('[data-testid="document-item"][data-type="image/png"]');
      await item.waitFor({ timeout: SLOW });
      assert.equal(await text(item.getByTestId('document-item-title')), 'Wound, left shin');
      assert.equal(await text(item.getByTestId('document-item-size')), '73 bytes');
      const img = item.getByTestId('document-image');
      await img.waitFor({ timeout: SLOW });
      assert.match(await img.getAttribute('src'), /^data:image\/png;base64,/);
      await page.waitForFunction(() => document.querySelector('[data-testid="document-image"]')?.complete);
      const size = await img.evaluate((el) => ({ w: el.naturalWidth, h: el.naturalHeight }));
      assert.deepEqual(size, { w: 2, h: 2 }, 'the image was decoded (the CSP allows data: images)');
      assert.equal(await item.getByTestId('document-save-copy').count(), 0);
      assert.ok(!(await page.locator('body').innerText()).includes('IMG_0042'), 'the file name is not kept or shown');
    });

    await step('add a PDF: not rendered, saved on request to a file that starts with %PDF', async () => {
      await page.getByTestId('document-title').fill('Referral letter');
      await page.getByTestId('document-file').setInputFiles({ name: 'referral.pdf', mimeType: 'application/pdf', buffer: PDF });
      await page.getByTestId('document-save').click();
      const item = page.locator('[data-testid="document-item"][data-type="application/pdf"]');
      await item.waitFor({ timeout: SLOW });
      assert.equal(await page.getByTestId('document-item').count(), 2);
      assert.equal(await text(item.getByTestId('document-item-type')), 'PDF');
      assert.equal(await item.locator('img, iframe, object, embed').count(), 0, 'a PDF is never rendered');
      assert.match(await text(item), /not encrypted/);
      await item.getByTestId('document-save-copy').click();
      const { name, bytes } = await savedFile(item.getByTestId('document-saved'));
      assert.match(name, /\.pdf$/);
      assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-');
      assert.ok(bytes.equals(PDF), 'the saved copy is the document as added');
      await shot('documents.png');
    });

    await step('a text file named .png is refused beside the file field; nothing is added', async () => {
      await page.getByTestId('document-title').fill('Not really a picture');
      await page.getByTestId('document-file').setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: Buffer.from('just some text\n') });
      await page.getByTestId('document-save').click();
      const err = page.getByTestId('field-error-file');
      await err.waitFor({ timeout: SLOW });
      assert.equal(await text(err), NOT_A_DOCUMENT);
      assert.equal(await page.getByTestId('document-file').getAttribute('aria-invalid'), 'true');
      assert.equal(await page.getByTestId('document-item').count(), 2);
      assert.equal(await page.getByTestId('document-title').inputValue(), 'Not really a picture', 'what was typed is kept');
    });

    await step('print the summary: a PDF in the save folder', async () => {
      await page.getByTestId('print-summary').click();
      const { name, bytes } = await savedFile(page.getByTestId('summary-pdf-saved'));
      const clinicNo = (await page.getByTestId('patient-clinic-no').innerText()).trim();
      assert.ok(name.startsWith(`summary-${clinicNo}-`), `${name} names the clinic number ${clinicNo}`);
      assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-');
    });

    await step("export the patient's chart as FHIR", async () => {
      await page.getByTestId('export-fhir').click();
      const { bytes } = await savedFile(page.getByTestId('export-fhir-saved'));
      const bundle = JSON.parse(bytes.toString('utf8'));
      assert.equal(bundle.resourceType, 'Bundle');
      const patients = bundle.entry.filter((e) => e.resource.resourceType === 'Patient');
      assert.equal(patients.length, 1);
      assert.equal(patients[0].resource.name[0].family, 'Phiri');
    });

    const sample = (await readdir(SAMPLES)).find((f) => /^Norma_Pagan_.*\.json$/.test(f));
    assert.ok(sample, 'the Norma Pagan sample Bundle is in testdata/fhir/samples');
    const raw = await readFile(path.join(SAMPLES, sample));
    const entries = JSON.parse(raw.toString('utf8')).entry.length;
    const file = { name: sample, mimeType: 'application/json', buffer: raw };
    let imported = 0;

    /** Imports the sample through the Import area and returns the report's totals. */
    const importSample = async () => {
      await page.getByTestId('import-file').setInputFiles(file);
      await page.getByTestId('import-start').click();
      const bar = page.getByTestId('import-progress');
      await bar.waitFor({ timeout: SLOW });
      assert.equal(await bar.evaluate((el) => el.tagName), 'PROGRESS');
      await page.locator('[data-testid="import-job"][data-finished="true"]').waitFor({ timeout: 120_000 });
      assert.equal(await bar.getAttribute('aria-valuenow'), String(entries), 'the progress bar reaches the end');
      assert.equal(await bar.getAttribute('aria-valuemax'), String(entries));
      assert.equal(await bar.evaluate((el) => [el.value, el.max].join('/')), `${entries}/${entries}`);
      assert.equal(await text(page.getByTestId('import-progress-text')), `${entries} of ${entries} entries`);
      const report = page.getByTestId('import-report');
      await report.waitFor();
      assert.equal(await report.getAttribute('data-outcome'), 'done', await text(report));
      const n = async (id) => Number(await text(report.getByTestId(id)));
      return { report, imported: await n('import-imported'), present: await n('import-present'), skipped: await n('import-skipped') };
    };

    await step('import the Norma Pagan Bundle: progress to the end, then the report', async () => {
      await page.getByTestId('nav-exchange').click();
      await page.getByTestId('data-exchange').waitFor();
      const r = await importSample();
      imported = r.imported;
      assert.ok(imported > 0, 'records were imported');
      assert.equal(r.present, 0);
      const patient = r.report.locator('[data-testid="import-count"][data-type="Patient"]');
      assert.equal(await text(patient.getByTestId('import-count-imported')), '1');
      const allergies = r.report.locator('[data-testid="import-count"][data-type="AllergyIntolerance"]');
      assert.equal(await text(allergies.getByTestId('import-count-imported')), '4');
      assert.ok((await r.report.getByTestId('import-count').count()) >= 5, 'a row per resource type');
      const skips = r.report.getByTestId('import-skips');
      assert.match(await text(skips.locator('summary')), /^Why \d+ resources were skipped$/);
      await skips.locator('summary').click();
      const skip = skips.getByTestId('import-skip').first();
      assert.equal(await text(skip.getByTestId('import-skip-type')), 'Observation');
      assert.match(await text(skip.getByTestId('import-skip-reason')), /\S/);
      await shot('import-report.png');
    });

    await step('import it again: nothing new, all already present', async () => {
      const r = await importSample();
      assert.equal(r.imported, 0);
      assert.equal(r.present, imported);
      const patient = r.report.locator('[data-testid="import-count"][data-type="Patient"]');
      assert.equal(await text(patient.getByTestId('import-count-present')), '1');
    });

    await step('export every chart (FHIR)', async () => {
      await page.getByTestId('export-all').click();
      const { bytes } = await savedFile(page.getByTestId('export-all-saved'));
      const bundle = JSON.parse(bytes.toString('utf8'));
      const families = bundle.entry.filter((e) => e.resource.resourceType === 'Patient').map((e) => e.resource.name[0].family).sort();
      assert.deepEqual(families, ['Pagan', 'Phiri']);
    });

    await step('find Norma Pagan with the search box and open her chart', async () => {
      await page.getByTestId('nav-patients').click();
      await page.getByTestId('search-input').fill('pagan norma');
      const hit = page.getByTestId('search-result').filter({ hasText: /PAGAN/ });
      await hit.waitFor({ timeout: SLOW });
      await hit.getByTestId('hit-name').click();
      await page.getByTestId('patient-view').waitFor({ timeout: SLOW });
      assert.equal((await page.getByTestId('patient-name').innerText()).trim(), 'PAGAN, Norma');
      await page.locator('[data-testid="allergy-banner"][data-state="some"]').waitFor({ timeout: SLOW });
      assert.ok((await page.getByTestId('summary-visit').count()) > 0, 'her imported visits are in the chart');
    });

    await step('no console errors, page errors or CSP violations', async () => {
      await env.assertClean();
    });
  } catch (err) {
    throw await env.failed(err);
  }
});
