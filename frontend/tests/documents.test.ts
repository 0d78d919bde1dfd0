import { beforeEach, describe, expect, it, vi } from 'vitest';
import { flushSync, mount, unmount } from 'svelte';
import DataExchange from '../src/components/DataExchange.svelte';
import DocumentsPanel from '../src/components/DocumentsPanel.svelte';
import Home from '../src/components/Home.svelte';
import PatientView from '../src/components/PatientView.svelte';
import type { DocumentInfo, ImportJob, User } from '../src/lib/api';
import { forgetImport, progressText, rememberedImport } from '../src/lib/exchange';
import { formatSize, imageDataUrl, MAX_DOCUMENT_BYTES, readBase64 } from '../src/lib/files';
import { chartItem, fakeApp, homeStatus, makePatient, users } from './fakeGo';
import { allByTestId, byTestId, click, render, type, waitFor } from './render';

const XSS = '<img src=x onerror=alert(1)>';
// A 1×1 PNG and the start of a PDF: only their first bytes matter to the UI.
const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const PDF_TEXT = '%PDF-1.4\n%%EOF\n';

function docInfo(over: Partial<DocumentInfo> = {}): DocumentInfo {
  return { patientId: 'p1', title: 'Referral letter', contentType: 'application/pdf', size: 2048, sha256: 'ab'.repeat(32), created: '2026-11-23T10:00:00Z', ...over };
}

function job(over: Partial<ImportJob> = {}): ImportJob {
  return {
    id: 'j1', name: 'bundle.json', done: 0, total: 0, finished: false, counts: [],
    totals: { type: 'all', imported: 0, present: 0, skipped: 0 }, skips: [], ...over,
  };
}

/** Sets the files of a file input as a user choosing one would, and fires change. */
function choose(input: Element | null, file: File) {
  if (!input) throw new Error('no file input');
  Object.defineProperty(input, 'files', { configurable: true, value: [file] });
  input.dispatchEvent(new Event('change', { bubbles: true }));
}

/** A file that claims a size without holding the bytes. */
function fileOfSize(name: string, size: number, type = 'image/png'): File {
  const f = new File(['x'], name, { type });
  Object.defineProperty(f, 'size', { value: size });
  return f;
}

beforeEach(() => {
  Object.assign(fakeApp, {
    AddDocument: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    ListDocuments: vi.fn(async () => []),
    GetDocument: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    SaveDocument: vi.fn(async () => ({ name: '' })),
    SaveSummaryPDF: vi.fn(async () => ({ name: '' })),
    ExportFHIR: vi.fn(async () => ({ name: '' })),
    StartFHIRImport: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
    FHIRImportStatus: vi.fn(async () => {
      throw new Error('not stubbed');
    }),
  });
});

describe('file helpers', () => {
  it('sizes, data URLs only for PNG and JPEG, progress text', async () => {
    expect(formatSize(812)).toBe('812 bytes');
    expect(formatSize(14_541)).toBe('14.2 KB');
    expect(formatSize(MAX_DOCUMENT_BYTES)).toBe('20 MB');
    expect(imageDataUrl('image/png', PNG_B64)).toBe(`data:image/png;base64,${PNG_B64}`);
    expect(imageDataUrl('application/pdf', 'JVBERi0=')).toBe('');
    expect(imageDataUrl('image/svg+xml', 'PHN2Zz4=')).toBe('');
    expect(imageDataUrl('image/png', 'not base64!')).toBe('');
    expect(progressText({ done: 0, total: 0 })).toBe('Reading the file…');
    expect(progressText({ done: 120, total: 239 })).toBe('120 of 239 entries');
    expect(progressText({ done: 300, total: 239 })).toBe('239 of 239 entries');
    expect(await readBase64(new Blob([PDF_TEXT]))).toBe(btoa(PDF_TEXT));
  });
});

describe('documents: adding', () => {
  it('needs a title and a file; nothing is sent until both are there', async () => {
    const root = render(DocumentsPanel, { patientId: 'p1', canWrite: true });
    await waitFor(() => byTestId(root, 'documents-empty'));
    click(byTestId(root, 'document-save'));
    expect(byTestId(root, 'field-error-title')!.textContent).toBe('Give the document a title.');
    expect(byTestId(root, 'field-error-file')!.textContent).toBe('Choose a PDF, PNG or JPEG file.');
    await waitFor(() => document.activeElement === root.querySelector('#doc-title'));
    expect(byTestId(root, 'document-title')!.getAttribute('aria-invalid')).toBe('true');
    expect(byTestId(root, 'document-file')!.getAttribute('aria-describedby')).toContain('doc-file-error');
    expect(fakeApp.AddDocument).not.toHaveBeenCalled();
  });

  it('refuses a file over 20 MB as soon as it is chosen, without reading it', async () => {
    const read = vi.spyOn(FileReader.prototype, 'readAsDataURL');
    const root = render(DocumentsPanel, { patientId: 'p1', canWrite: true });
    const input = await waitFor(() => byTestId(root, 'document-file'));
    expect(input.getAttribute('accept')).toBe('application/pdf,image/png,image/jpeg');
    choose(input, fileOfSize('scan.png', MAX_DOCUMENT_BYTES + 1));
    await waitFor(() => byTestId(root, 'field-error-file'));
    expect(byTestId(root, 'field-error-file')!.textContent).toBe('The file is larger than 20 MB.');
    type(byTestId(root, 'document-title'), 'Wound photo');
    click(byTestId(root, 'document-save'));
    await waitFor(() => document.activeElement === input);
    expect(read).not.toHaveBeenCalled();
    expect(fakeApp.AddDocument).not.toHaveBeenCalled();
    // Exactly 20 MB is allowed.
    choose(input, fileOfSize('scan.png', MAX_DOCUMENT_BYTES));
    await waitFor(() => !byTestId(root, 'field-error-file'));
  });

  it('sends the title and the bytes in base64, never the file name, then lists the new document', async () => {
    const root = render(DocumentsPanel, { patientId: 'p1', canWrite: true });
    const input = await waitFor(() => byTestId(root, 'document-file'));
    const added = chartItem('d1', docInfo({ title: 'Lab report', size: PDF_TEXT.length }));
    fakeApp.AddDocument.mockResolvedValueOnce(added);
    fakeApp.ListDocuments.mockResolvedValueOnce([added]);
    type(byTestId(root, 'document-title'), '  Lab report ');
    choose(input, new File([PDF_TEXT], 'secret-patient-name.pdf', { type: 'application/pdf' }));
    click(byTestId(root, 'document-save'));
    await waitFor(() => byTestId(root, 'document-flash'));
    expect(fakeApp.AddDocument).toHaveBeenCalledWith({ patientId: 'p1', title: 'Lab report', data: btoa(PDF_TEXT) });
    expect(JSON.stringify(fakeApp.AddDocument.mock.calls)).not.toContain('secret-patient-name');
    expect(byTestId(root, 'document-flash')!.textContent).toContain('Document added: Lab report.');
    expect(allByTestId(root, 'document-item')).toHaveLength(1);
    expect((byTestId(root, 'document-title') as HTMLInputElement).value).toBe('');
    // The same input element stays in the document (WebKitGTK), emptied.
    expect(byTestId(root, 'document-file')).toBe(input);
    expect((input as HTMLInputElement).value).toBe('');
  });

  it('shows the backend message beside the file field and adds nothing', async () => {
    const root = render(DocumentsPanel, { patientId: 'p1', canWrite: true });
    const input = await waitFor(() => byTestId(root, 'document-file'));
    fakeApp.AddDocument.mockRejectedValueOnce({
      code: 'E_VALIDATION',
      message: 'Some fields need attention.',
      incident: 'inc-1',
      fields: { file: 'Only PDF, PNG and JPEG documents are accepted.' },
    });
    type(byTestId(root, 'document-title'), 'Not an image');
    choose(input, new File(['just text'], 'note.png', { type: 'image/png' }));
    click(byTestId(root, 'document-save'));
    const err = await waitFor(() => byTestId(root, 'field-error-file'));
    expect(err.textContent).toBe('Only PDF, PNG and JPEG documents are accepted.');
    expect(byTestId(root, 'document-problem')).toBeNull();
    expect(byTestId(root, 'document-flash')).toBeNull();
    expect(fakeApp.ListDocuments).toHaveBeenCalledTimes(1);
    expect((byTestId(root, 'document-title') as HTMLInputElement).value).toBe('Not an image');
  });

  it('a problem without fields is shown with its code and incident', async () => {
    const root = render(DocumentsPanel, { patientId: 'p1', canWrite: true });
    const input = await waitFor(() => byTestId(root, 'document-file'));
    fakeApp.AddDocument.mockRejectedValueOnce({ code: 'E_VAULT', message: 'The vault could not be written.', incident: 'inc-42' });
    type(byTestId(root, 'document-title'), 'Scan');
    choose(input, new File([PDF_TEXT], 'a.pdf'));
    click(byTestId(root, 'document-save'));
    const p = await waitFor(() => byTestId(root, 'document-problem'));
    expect(p.dataset.code).toBe('E_VAULT');
    expect(byTestId(p, 'problem-incident')!.textContent).toBe('inc-42');
  });

  it('without chart.write there is no form', async () => {
    const root = render(DocumentsPanel, { patientId: 'p1' });
    await waitFor(() => byTestId(root, 'documents-empty'));
    expect(byTestId(root, 'document-form')).toBeNull();
    expect(root.querySelector('input[type="file"]')).toBeNull();
  });
});

describe('documents: the list', () => {
  it('shows images inline from a data: URL; a PDF is not rendered but saved on request', async () => {
    fakeApp.ListDocuments.mockResolvedValue([
      chartItem('d-png', docInfo({ title: XSS, contentType: 'image/png', size: 70 })),
      chartItem('d-pdf', docInfo({ title: 'Discharge letter', size: 1_536_000 }), { author: 'dr.sam' }),
    ]);
    fakeApp.GetDocument.mockImplementation(async (id: string) => {
      if (id !== 'd-png') throw new Error('only images are read');
      return { document: docInfo({ contentType: 'image/png' }), data: PNG_B64 };
    });
    const root = render(DocumentsPanel, { patientId: 'p1', canWrite: true });
    const img = await waitFor(() => root.querySelector<HTMLImageElement>('[data-testid="document-image"]'));
    expect(img.getAttribute('src')).toBe(`data:image/png;base64,${PNG_B64}`);
    expect(img.getAttribute('alt')).toBe(XSS);
    expect(fakeApp.GetDocument).toHaveBeenCalledTimes(1);
    expect(fakeApp.GetDocument).toHaveBeenCalledWith('d-png');

    const [png, pdf] = allByTestId(root, 'document-item');
    expect(byTestId(png, 'document-item-title')!.textContent).toBe(XSS);
    expect(png.querySelectorAll('img')).toHaveLength(1);
    expect(byTestId(png, 'document-save-copy')).toBeNull();
    expect(byTestId(png, 'document-item-type')!.textContent).toBe('PNG image');
    expect(byTestId(pdf, 'document-item-type')!.textContent).toBe('PDF');
    expect(byTestId(pdf, 'document-item-size')!.textContent).toBe('1.5 MB');
    expect(pdf.textContent).toContain('by dr.sam');
    expect(pdf.querySelector('img, iframe, object, embed')).toBeNull();
    expect(pdf.textContent).toMatch(/not encrypted/);

    // Cancelled in the dialog: nothing is said.
    click(byTestId(pdf, 'document-save-copy'));
    await waitFor(() => fakeApp.SaveDocument.mock.calls.length === 1 && byTestId(pdf, 'document-save-copy')!.getAttribute('aria-disabled') === 'false');
    expect(fakeApp.SaveDocument).toHaveBeenCalledWith('d-pdf');
    expect(byTestId(pdf, 'document-saved')).toBeNull();
    // Saved.
    fakeApp.SaveDocument.mockResolvedValueOnce({ name: 'document-1a2b3c4d.pdf' });
    click(byTestId(pdf, 'document-save-copy'));
    expect((await waitFor(() => byTestId(pdf, 'document-saved'))).textContent).toBe('Saved as document-1a2b3c4d.pdf.');
    // Refused: the problem with its incident.
    fakeApp.SaveDocument.mockRejectedValueOnce({ code: 'E_VALIDATION', message: 'The file could not be written there. Choose another folder.', incident: 'inc-7' });
    click(byTestId(pdf, 'document-save-copy'));
    const p = await waitFor(() => byTestId(pdf, 'document-save-problem'));
    expect(byTestId(p, 'problem-message')!.textContent).toBe('The file could not be written there. Choose another folder.');
    expect(byTestId(p, 'problem-incident')!.textContent).toBe('inc-7');
    expect(byTestId(pdf, 'document-saved')).toBeNull();
  });

  it('a large image is read only when asked for', async () => {
    fakeApp.ListDocuments.mockResolvedValue([chartItem('d-big', docInfo({ title: 'X-ray', contentType: 'image/jpeg', size: 8_000_000 }))]);
    fakeApp.GetDocument.mockResolvedValue({ document: docInfo({ contentType: 'image/png' }), data: PNG_B64 });
    const root = render(DocumentsPanel, { patientId: 'p1', canWrite: false });
    const show = await waitFor(() => byTestId(root, 'document-image-show'));
    expect(show.textContent).toContain('7.6 MB');
    expect(fakeApp.GetDocument).not.toHaveBeenCalled();
    click(show);
    await waitFor(() => byTestId(root, 'document-image'));
    expect(fakeApp.GetDocument).toHaveBeenCalledWith('d-big');
  });

  it('a problem reading the list or an image is shown; E_RESTRICTED goes to the chart', async () => {
    fakeApp.ListDocuments.mockRejectedValueOnce({ code: 'E_INTERNAL', message: 'Something went wrong.', incident: 'inc-9' });
    const root = render(DocumentsPanel, { patientId: 'p1' });
    const p = await waitFor(() => byTestId(root, 'documents-problem'));
    expect(byTestId(p, 'problem-incident')!.textContent).toBe('inc-9');
    fakeApp.ListDocuments.mockResolvedValueOnce([chartItem('d1', docInfo({ contentType: 'image/jpeg' }))]);
    fakeApp.GetDocument.mockRejectedValueOnce({ code: 'E_VAULT', message: 'The document does not match its checksum.', incident: 'inc-10' });
    click(byTestId(root, 'documents-reload'));
    const ip = await waitFor(() => byTestId(root, 'document-image-problem'));
    expect(byTestId(ip, 'problem-message')!.textContent).toBe('The document does not match its checksum.');
    expect(root.querySelector('img')).toBeNull();

    const onrestricted = vi.fn();
    fakeApp.ListDocuments.mockRejectedValueOnce({ code: 'E_RESTRICTED', message: 'Restricted.' });
    const other = render(DocumentsPanel, { patientId: 'p2', onrestricted });
    await waitFor(() => onrestricted.mock.calls.length === 1);
    expect(byTestId(other, 'documents-problem')).toBeNull();
  });
});

describe('the patient view: documents, summary PDF and FHIR export', () => {
  it('has a Documents tab with chart.read only, and saves the summary and the chart through the dialog', async () => {
    const root = render(PatientView, { id: 'p1', initial: makePatient(), canChartRead: true, onedit: () => {}, onback: () => {} });
    click(await waitFor(() => byTestId(root, 'tab-documents')));
    await waitFor(() => byTestId(root, 'documents-empty'));
    expect(fakeApp.ListDocuments).toHaveBeenCalledWith('p1');
    expect(byTestId(root, 'document-form')).toBeNull();
    // Still there (hidden) on another tab.
    click(byTestId(root, 'tab-summary'));
    expect(byTestId(root, 'documents')!.hidden).toBe(true);

    fakeApp.SaveSummaryPDF.mockResolvedValueOnce({ name: 'summary-OP-00001-2026-11-23.pdf' });
    click(byTestId(root, 'print-summary'));
    expect((await waitFor(() => byTestId(root, 'summary-pdf-saved'))).textContent).toBe('Saved as summary-OP-00001-2026-11-23.pdf.');
    expect(fakeApp.SaveSummaryPDF).toHaveBeenCalledWith('p1');

    fakeApp.ExportFHIR.mockRejectedValueOnce({ code: 'E_RESTRICTED_X', message: 'Nothing was exported.', incident: 'inc-3' });
    click(byTestId(root, 'export-fhir'));
    const p = await waitFor(() => byTestId(root, 'export-fhir-problem'));
    expect(fakeApp.ExportFHIR).toHaveBeenCalledWith('p1');
    expect(byTestId(p, 'problem-incident')!.textContent).toBe('inc-3');
    expect(byTestId(root, 'summary-pdf-saved')).toBeNull();

    // Cancelled: nothing is said.
    click(byTestId(root, 'export-fhir'));
    await waitFor(() => fakeApp.ExportFHIR.mock.calls.length === 2 && !byTestId(root, 'export-fhir-problem'));
    expect(byTestId(root, 'export-fhir-saved')).toBeNull();
  });

  it('a clerk has no Documents tab and no print or export buttons', async () => {
    const root = render(PatientView, { id: 'p1', initial: makePatient(), onedit: () => {}, onback: () => {} });
    await waitFor(() => byTestId(root, 'patient-details'));
    expect(byTestId(root, 'tab-documents')).toBeNull();
    expect(byTestId(root, 'print-summary')).toBeNull();
    expect(byTestId(root, 'export-fhir')).toBeNull();
    expect(fakeApp.ListDocuments).not.toHaveBeenCalled();
  });
});

describe('import and export', () => {
  function chooseBundle(root: HTMLElement, text = '{"resourceType":"Bundle"}') {
    choose(byTestId(root, 'import-file'), new File([text], 'norma.json', { type: 'application/json' }));
  }

  it('shows progress (indeterminate, then N of M), then the report as text', async () => {
    const statuses = [
      job({ done: 0, total: 0 }),
      job({ done: 100, total: 239 }),
      job({
        done: 239, total: 239, finished: true,
        counts: [
          { type: 'Claim', imported: 0, present: 0, skipped: 33 },
          { type: 'Patient', imported: 1, present: 0, skipped: 0 },
          { type: 'Observation', imported: 95, present: 0, skipped: 2 },
        ],
        totals: { type: 'all', imported: 96, present: 0, skipped: 35 },
        skips: [{ type: 'Observation', id: XSS, reason: 'no value: <b>bold</b>' }],
      }),
    ];
    fakeApp.StartFHIRImport.mockResolvedValueOnce(job());
    let answer!: (j: ImportJob) => void;
    fakeApp.FHIRImportStatus.mockImplementation(() => new Promise<ImportJob>((r) => (answer = r)));
    const root = render(DataExchange, { canImport: true, username: 'dr.sam', pollMs: 5 });
    chooseBundle(root);
    click(byTestId(root, 'import-start'));

    await waitFor(() => fakeApp.FHIRImportStatus.mock.calls.length === 1);
    expect(fakeApp.StartFHIRImport).toHaveBeenCalledWith({ name: 'norma.json', data: btoa('{"resourceType":"Bundle"}') });
    let bar = byTestId(root, 'import-progress') as HTMLProgressElement;
    expect(bar.tagName).toBe('PROGRESS');
    expect(bar.hasAttribute('value')).toBe(false);
    expect(bar.getAttribute('aria-valuenow')).toBeNull();
    expect(byTestId(root, 'import-progress-text')!.textContent).toBe('Reading the file…');
    expect(byTestId(root, 'import-start')!.getAttribute('aria-disabled')).toBe('true');
    expect(rememberedImport('dr.sam')).toBe('j1');

    answer(statuses[0]);
    await waitFor(() => fakeApp.FHIRImportStatus.mock.calls.length === 2);
    answer(statuses[1]);
    await waitFor(() => byTestId(root, 'import-progress')?.getAttribute('aria-valuenow') === '100');
    bar = byTestId(root, 'import-progress') as HTMLProgressElement;
    expect(bar.getAttribute('max')).toBe('239');
    expect(bar.getAttribute('aria-valuemax')).toBe('239');
    expect(bar.getAttribute('aria-valuetext')).toBe('100 of 239 entries');
    expect(byTestId(root, 'import-progress-text')!.textContent).toBe('100 of 239 entries');
    expect(byTestId(root, 'import-report')).toBeNull();

    await waitFor(() => fakeApp.FHIRImportStatus.mock.calls.length === 3);
    answer(statuses[2]);
    const report = await waitFor(() => byTestId(root, 'import-report'));
    expect(fakeApp.FHIRImportStatus).toHaveBeenCalledWith('j1');
    expect(byTestId(root, 'import-progress')!.getAttribute('aria-valuenow')).toBe('239');
    expect(byTestId(root, 'import-progress-text')!.textContent).toBe('239 of 239 entries');
    expect(byTestId(report, 'import-imported')!.textContent).toBe('96');
    expect(byTestId(report, 'import-present')!.textContent).toBe('0');
    expect(byTestId(report, 'import-skipped')!.textContent).toBe('35');
    expect(allByTestId(report, 'import-count').map((r) => r.dataset.type)).toEqual(['Claim', 'Patient', 'Observation']);
    const obs = report.querySelector('[data-type="Observation"]')!;
    expect(byTestId(obs, 'import-count-imported')!.textContent).toBe('95');
    expect(byTestId(obs, 'import-count-skipped')!.textContent).toBe('2');
    expect(byTestId(report, 'import-skip-id')!.textContent).toBe(XSS);
    expect(byTestId(report, 'import-skip-reason')!.textContent).toBe('no value: <b>bold</b>');
    expect(report.querySelector('img, b')).toBeNull();
    expect(byTestId(report, 'import-not-kept')).not.toBeNull();
    await waitFor(() => document.activeElement?.id === 'import-outcome');
    expect(rememberedImport('dr.sam')).toBe('');
    // Finished: no more polling, and another import may start.
    const calls = fakeApp.FHIRImportStatus.mock.calls.length;
    await new Promise((r) => setTimeout(r, 30));
    expect(fakeApp.FHIRImportStatus.mock.calls.length).toBe(calls);
    expect(byTestId(root, 'import-start')!.getAttribute('aria-disabled')).toBe('false');
  });

  it('a failed import shows its problem', async () => {
    fakeApp.StartFHIRImport.mockResolvedValueOnce(job());
    fakeApp.FHIRImportStatus.mockResolvedValueOnce(
      job({
        finished: true,
        problem: { code: 'E_VALIDATION', message: 'This file cannot be imported: the file is not valid JSON at line 1, column 38', incident: 'inc-5' },
      }),
    );
    const root = render(DataExchange, { canImport: true, username: 'dr.sam', pollMs: 5 });
    chooseBundle(root, '{"resourceType": "Bundle", "entry": [}');
    click(byTestId(root, 'import-start'));
    const p = await waitFor(() => byTestId(root, 'import-problem'));
    expect(byTestId(p, 'problem-message')!.textContent).toBe('This file cannot be imported: the file is not valid JSON at line 1, column 38');
    expect(byTestId(p, 'problem-incident')!.textContent).toBe('inc-5');
    expect(byTestId(root, 'import-report')!.dataset.outcome).toBe('failed');
    expect(byTestId(root, 'import-totals')).toBeNull();
  });

  it('says what is wrong before starting: no file, an empty file, a refusal, another import running', async () => {
    const root = render(DataExchange, { canImport: true, username: 'dr.sam', pollMs: 5 });
    click(byTestId(root, 'import-start'));
    expect(byTestId(root, 'field-error-file')!.textContent).toBe('Choose a FHIR R4 Bundle (.json) file.');
    chooseBundle(root, '');
    click(byTestId(root, 'import-start'));
    await waitFor(() => byTestId(root, 'field-error-file')?.textContent === 'The file is empty.');

    fakeApp.StartFHIRImport.mockRejectedValueOnce({ code: 'E_VALIDATION', message: 'Some fields need attention.', fields: { file: 'The file could not be read.' } });
    chooseBundle(root);
    click(byTestId(root, 'import-start'));
    await waitFor(() => byTestId(root, 'field-error-file')?.textContent === 'The file could not be read.');
    expect(byTestId(root, 'import-start-problem')).toBeNull();

    fakeApp.StartFHIRImport.mockRejectedValueOnce({ code: 'E_CONFLICT', message: 'An import is already running. Wait for it to finish.', incident: 'inc-8' });
    chooseBundle(root);
    click(byTestId(root, 'import-start'));
    const p = await waitFor(() => byTestId(root, 'import-start-problem'));
    expect(p.dataset.code).toBe('E_CONFLICT');
    expect(byTestId(p, 'problem-incident')!.textContent).toBe('inc-8');
    expect(byTestId(root, 'import-job')).toBeNull();
    expect(fakeApp.FHIRImportStatus).not.toHaveBeenCalled();
  });

  it('coming back to the area follows the import that is still running', async () => {
    fakeApp.StartFHIRImport.mockResolvedValueOnce(job({ id: 'j2' }));
    fakeApp.FHIRImportStatus.mockResolvedValue(job({ id: 'j2', done: 10, total: 239 }));
    const first = document.createElement('div');
    document.body.appendChild(first);
    const leaving = mount(DataExchange, { target: first, props: { canImport: true, username: 'dr.sam', pollMs: 5 } });
    flushSync();
    chooseBundle(first);
    click(byTestId(first, 'import-start'));
    await waitFor(() => byTestId(first, 'import-progress-text')?.textContent === '10 of 239 entries');
    // Leaving the area (another area, the lock screen) unmounts it; the import goes on.
    unmount(leaving);
    const polled = fakeApp.FHIRImportStatus.mock.calls.length;
    await new Promise((r) => setTimeout(r, 30));
    expect(fakeApp.FHIRImportStatus.mock.calls.length).toBe(polled);
    // Another user does not see it.
    const other = render(DataExchange, { canImport: true, username: 'nurse.joy', pollMs: 5 });
    expect(byTestId(other, 'import-job')).toBeNull();
    fakeApp.FHIRImportStatus.mockResolvedValue(job({ id: 'j2', done: 239, total: 239, finished: true, totals: { type: 'all', imported: 0, present: 120, skipped: 119 } }));
    const again = render(DataExchange, { canImport: true, username: 'dr.sam', pollMs: 5 });
    await waitFor(() => byTestId(again, 'import-report'));
    expect(byTestId(again, 'import-present')!.textContent).toBe('120');
    forgetImport('j2');
  });

  it('exports every chart; a user without chart.write sees only the export', async () => {
    const root = render(DataExchange, { canImport: false, username: 'reader' });
    expect(byTestId(root, 'import-section')).toBeNull();
    expect(root.querySelector('input[type="file"]')).toBeNull();
    fakeApp.ExportFHIR.mockResolvedValueOnce({ name: 'outpost-fhir-2026-11-23.json' });
    click(byTestId(root, 'export-all'));
    expect((await waitFor(() => byTestId(root, 'export-all-saved'))).textContent).toBe('Saved as outpost-fhir-2026-11-23.json.');
    expect(fakeApp.ExportFHIR).toHaveBeenCalledWith('');
    fakeApp.ExportFHIR.mockRejectedValueOnce({ code: 'E_INTERNAL', message: 'Something went wrong.', incident: 'inc-11' });
    click(byTestId(root, 'export-all'));
    const p = await waitFor(() => byTestId(root, 'export-all-problem'));
    expect(byTestId(p, 'problem-incident')!.textContent).toBe('inc-11');
    expect(byTestId(root, 'export-all-saved')).toBeNull();
  });

  it('the area is in the top bar for chart.read, with the import for chart.write only', async () => {
    const props = { loginInfo: null, ondismissbanner: () => {}, onlogout: () => {}, onlock: () => {}, onpasswordchanged: () => {}, onsetupmfa: () => {} };
    const clerk = render(Home, { ...props, status: homeStatus(users.clerk) });
    expect(byTestId(clerk, 'nav-exchange')).toBeNull();

    const clinician = render(Home, { ...props, status: homeStatus(users.clinician) });
    const nav = byTestId(clinician, 'nav-exchange')!;
    expect(nav.textContent!.trim()).toBe('Import and export');
    click(nav);
    await waitFor(() => byTestId(clinician, 'import-section'));
    await waitFor(() => document.activeElement?.id === 'area-title');

    const reader: User = { username: 'reader', name: 'Read Only', roles: [], permissions: ['patient.read', 'chart.read'] };
    const readOnly = render(Home, { ...props, status: homeStatus(reader), initialArea: 'exchange' });
    await waitFor(() => byTestId(readOnly, 'export-section'));
    expect(byTestId(readOnly, 'import-section')).toBeNull();
  });
});
