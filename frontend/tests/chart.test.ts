import { describe, expect, it, vi } from 'vitest';
import App from '../src/App.svelte';
import AllergyBanner from '../src/components/AllergyBanner.svelte';
import PatientView from '../src/components/PatientView.svelte';
import PrescriptionForm from '../src/components/PrescriptionForm.svelte';
import VisitForm from '../src/components/VisitForm.svelte';
import VitalPlot from '../src/components/VitalPlot.svelte';
import { api, type Observation, type SaveRequest } from '../src/lib/api';
import {
  PLOTS,
  alignSeries,
  allergyBannerText,
  allergyLabel,
  computeBmi,
  formatVital,
  leftoverProblem,
  parseDecimal,
} from '../src/lib/chart';
import { chartItem, emptyChart, fakeApp, homeStatus, makeAllergy, makeEncounter, makePatient, users } from './fakeGo';
import { allByTestId, byTestId, click, render, type, waitFor } from './render';

const XSS = '<img src=x onerror=alert(1)>';

/** happy-dom has no canvas: give uPlot a 2D context that draws nothing. */
function stubCanvas() {
  const ctx = new Proxy<Record<string | symbol, unknown>>(
    {},
    {
      get: (t, k) => (k in t ? t[k] : k === 'measureText' ? () => ({ width: 8 }) : () => {}),
      set: (t, k, v) => {
        t[k] = v;
        return true;
      },
    },
  );
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockImplementation((() => ctx) as never);
  if (typeof (globalThis as { Path2D?: unknown }).Path2D !== 'function') {
    (globalThis as { Path2D?: unknown }).Path2D = class {
      moveTo() {}
      lineTo() {}
      rect() {}
      arc() {}
      closePath() {}
      bezierCurveTo() {}
      addPath() {}
    };
  }
}

describe('chart helpers', () => {
  it('computes BMI like the backend, to one decimal, only from two positive numbers', () => {
    expect(computeBmi(70, 175)).toBe(22.9);
    expect(computeBmi(3.4, 50)).toBe(13.6);
    expect(computeBmi(70, null)).toBeNull();
    expect(computeBmi(0, 170)).toBeNull();
    expect(computeBmi(-2, 170)).toBeNull();
  });

  it('reads decimal numbers with a point or a comma; empty is null, junk is NaN', () => {
    expect(parseDecimal(' 38.4 ')).toBe(38.4);
    expect(parseDecimal('38,4')).toBe(38.4);
    expect(parseDecimal('120')).toBe(120);
    expect(parseDecimal('')).toBeNull();
    expect(parseDecimal('  ')).toBeNull();
    expect(parseDecimal('38.4.1')).toBeNaN();
    expect(parseDecimal('abc')).toBeNaN();
    expect(parseDecimal('1e3')).toBeNaN();
  });

  it('labels allergies and shows units as people read them', () => {
    expect(allergyLabel(makeAllergy())).toBe('Penicillin (rash, moderate)');
    expect(allergyLabel(makeAllergy({ severity: '' }))).toBe('Penicillin (rash)');
    expect(allergyLabel(makeAllergy({ reaction: '', severity: '' }))).toBe('Penicillin');
    expect(allergyLabel(makeAllergy({ substance: { coding: [{ system: 'http://snomed.info/sct', code: '764146007', display: 'Penicillin' }] } }))).toBe(
      'Penicillin (rash, moderate)',
    );
    expect(allergyBannerText([])).toBe('No known allergies recorded');
    expect(
      allergyBannerText([
        chartItem('a1', makeAllergy()),
        chartItem('a2', makeAllergy({ substance: { text: 'Latex' }, status: 'inactive' })),
        chartItem('a3', makeAllergy({ substance: { text: 'Sulfa' }, reaction: 'hives', severity: '' })),
      ]),
    ).toBe('Allergies: Penicillin (rash, moderate); Sulfa (hives)');
    expect(formatVital(38.4, 'Cel', 'temperature')).toBe('38.4 °C');
    expect(formatVital(22.9, 'kg/m2')).toBe('22.9 kg/m²');
    expect(formatVital(120, 'mm[Hg]', 'systolic')).toBe('120 mmHg');
  });

  it('aligns series on one time axis with gaps as null', () => {
    const { xs, ys } = alignSeries([
      [
        { at: '2026-01-01T10:00:00Z', value: 120, unit: 'mm[Hg]' },
        { at: '2026-01-02T10:00:00Z', value: 130, unit: 'mm[Hg]' },
      ],
      [{ at: '2026-01-02T10:00:00Z', value: 85, unit: 'mm[Hg]' }, { at: 'garbage', value: 1, unit: '' }],
    ]);
    expect(xs).toEqual([Date.parse('2026-01-01T10:00:00Z') / 1000, Date.parse('2026-01-02T10:00:00Z') / 1000]);
    expect(ys).toEqual([
      [120, 130],
      [null, 85],
    ]);
  });

  it('keeps for the problem box only the messages no field shows', () => {
    const p = { code: 'E_VALIDATION', message: 'Some fields need attention.', fields: { drug: 'Enter a name.', patientId: 'No such patient.' } };
    expect(leftoverProblem(p, ['drug'])!.message).toBe('Some fields need attention.\nNo such patient.');
    expect(leftoverProblem(p, ['drug', 'patientId'])).toBeNull();
    expect(leftoverProblem({ code: 'E_CONFLICT', message: 'Changed.' }, ['drug'])!.message).toBe('Changed.');
  });
});

describe('chart bindings', () => {
  it('fill in lists the backend leaves out and keep "saved" absent when nothing was saved', async () => {
    fakeApp.ChartSummary.mockResolvedValueOnce({ problems: null, allergies: [chartItem('a1', makeAllergy())] });
    const s = await api.chartSummary('p1');
    expect(s).toEqual(emptyChart({ allergies: [chartItem('a1', makeAllergy())] }));
    fakeApp.SaveMedication.mockResolvedValueOnce({ warnings: null });
    expect(await api.saveMedication({ id: '', baseVersionId: '', reason: '', override: false, value: {} as never })).toEqual({ warnings: [] });
    fakeApp.VitalSeries.mockResolvedValueOnce(null);
    expect(await api.vitalSeries({ patientId: 'p1', vital: 'pulse' })).toEqual([]);
    fakeApp.SaveObservation.mockRejectedValueOnce({ code: 'E_VALIDATION', message: 'Check.', fields: { value: 'Enter a plausible value, from 30 to 45 °C.' } });
    await expect(api.saveObservation({ id: '', baseVersionId: '', reason: '', value: {} as never })).rejects.toMatchObject({
      problem: { code: 'E_VALIDATION', fields: { value: 'Enter a plausible value, from 30 to 45 °C.' } },
    });
  });
});

describe('allergy banner', () => {
  it('names each active allergy with its reaction and severity, as text', () => {
    const root = render(AllergyBanner, {
      allergies: [
        chartItem('a1', makeAllergy()),
        chartItem('a2', makeAllergy({ substance: { text: XSS }, reaction: '', severity: '' })),
        chartItem('a3', makeAllergy({ substance: { text: 'Latex' }, status: 'inactive' })),
      ],
    });
    const banner = byTestId(root, 'allergy-banner')!;
    expect(banner.dataset.state).toBe('some');
    expect(banner.textContent!.replace(/\s+/g, ' ').trim()).toBe(`Allergies: Penicillin (rash, moderate); ${XSS}`);
    expect(allByTestId(root, 'allergy-item')).toHaveLength(2);
    expect(root.querySelector('img')).toBeNull();
  });

  it('says when none are recorded, and never says so while loading or after a failure', () => {
    expect(byTestId(render(AllergyBanner, { allergies: [] }), 'allergy-banner')!.textContent!.trim()).toBe('No known allergies recorded');
    const loading = byTestId(render(AllergyBanner, { allergies: null }), 'allergy-banner')!;
    expect(loading.dataset.state).toBe('loading');
    expect(loading.textContent).not.toMatch(/No known/);
    const failed = byTestId(render(AllergyBanner, { allergies: null, failed: true }), 'allergy-banner')!;
    expect(failed.dataset.state).toBe('error');
    expect(failed.textContent).toMatch(/could not be loaded/);
    expect(failed.textContent).not.toMatch(/No known/);
  });

  it('is shown above the chart from the summary, with the summary on the first tab', async () => {
    fakeApp.ChartSummary.mockResolvedValue(
      emptyChart({
        allergies: [chartItem('a1', makeAllergy())],
        problems: [chartItem('c1', { patientId: 'p1', code: { text: 'Hypertension' }, status: 'active' as const, onset: '2024-03-01', note: '' })],
        vitals: [
          chartItem('o1', { patientId: 'p1', encounterId: 'e1', vital: 'temperature', value: 38.4, unit: 'Cel', effective: '2026-11-23T09:30:00Z' }),
        ],
        visits: [chartItem('e1', makeEncounter({ status: 'signed', complaint: 'Fever', signedBy: 'dr.sam', end: '2026-11-23T10:00:00Z', signedAt: '2026-11-23T10:00:00Z' }))],
      }),
    );
    const root = render(PatientView, { id: 'p1', initial: makePatient(), canChartRead: true, canChartWrite: true, onedit: () => {}, onback: () => {} });
    const banner = await waitFor(() => (byTestId(root, 'allergy-banner')?.dataset.state === 'some' ? byTestId(root, 'allergy-banner') : null));
    expect(fakeApp.ChartSummary).toHaveBeenCalledWith('p1');
    expect(banner!.textContent!.replace(/\s+/g, ' ').trim()).toBe('Allergies: Penicillin (rash, moderate)');
    expect(byTestId(root, 'tab-summary')!.getAttribute('aria-selected')).toBe('true');
    expect(byTestId(root, 'condition-item')!.textContent).toContain('Hypertension');
    expect(byTestId(root, 'vital-latest-value')!.textContent).toBe('38.4 °C');
    expect(byTestId(root, 'summary-visit')!.dataset.status).toBe('signed');
    expect(byTestId(root, 'add-allergy')).not.toBeNull();
  });
});

describe('chart flows in the patient view', () => {
  it('recording an allergy reads the summary again and updates the banner', async () => {
    const root = render(PatientView, { id: 'p1', initial: makePatient(), canChartRead: true, canChartWrite: true, onedit: () => {}, onback: () => {} });
    await waitFor(() => byTestId(root, 'allergy-banner')?.dataset.state === 'none');
    click(byTestId(root, 'add-allergy'));
    const form = await waitFor(() => byTestId(root, 'allergy-form'));
    expect(document.activeElement).toBe(form.querySelector('#allergy-substance'));
    type(form.querySelector('#allergy-substance'), 'Penicillin');
    type(form.querySelector('#allergy-reaction'), 'rash');
    // (The severity select is exercised in the browser test: happy-dom does not match option:checked.)
    fakeApp.SaveAllergy.mockImplementationOnce(async (req: SaveRequest<unknown>) => chartItem('a1', req.value));
    fakeApp.ChartSummary.mockResolvedValueOnce(emptyChart({ allergies: [chartItem('a1', makeAllergy())] }));
    click(byTestId(form, 'allergy-save'));
    await waitFor(() => byTestId(root, 'allergy-banner')?.dataset.state === 'some');
    expect(fakeApp.SaveAllergy).toHaveBeenCalledWith({
      id: '',
      baseVersionId: '',
      reason: '',
      value: { patientId: 'p1', substance: { text: 'Penicillin' }, reaction: 'rash', severity: '', status: 'active' },
    });
    expect(byTestId(root, 'allergy-form')).toBeNull();
    expect(byTestId(root, 'chart-flash')!.textContent).toContain('Allergy recorded: Penicillin (rash).');
    expect(byTestId(root, 'allergy-banner')!.textContent!.replace(/\s+/g, ' ').trim()).toBe('Allergies: Penicillin (rash, moderate)');
  });

  it('opens a visit; leaving the chart with unsaved notes asks first', async () => {
    const onback = vi.fn();
    const root = render(PatientView, { id: 'p1', initial: makePatient(), canChartRead: true, canChartWrite: true, onedit: () => {}, onback });
    click(await waitFor(() => byTestId(root, 'tab-visits')));
    fakeApp.SaveEncounter.mockImplementationOnce(async (req: SaveRequest<unknown>) => chartItem('e9', req.value));
    click(await waitFor(() => byTestId(root, 'open-visit')));
    const form = await waitFor(() => byTestId(root, 'visit-form'));
    const sent = fakeApp.SaveEncounter.mock.calls[0][0] as SaveRequest<{ status: string; start: string; patientId: string }>;
    expect(sent).toMatchObject({ id: '', baseVersionId: '', reason: '', value: { patientId: 'p1', status: 'open', complaint: '' } });
    expect(Date.parse(sent.value.start)).not.toBeNaN();
    expect(form.dataset.visitId).toBe('e9');

    type(root.querySelector('#visit-complaint'), 'Cough');
    click(byTestId(root, 'back-to-search'));
    await waitFor(() => byTestId(root, 'leave-warning'));
    expect(onback).not.toHaveBeenCalled();
    // The Summary tab keeps the visit as it was typed.
    click(byTestId(root, 'tab-summary'));
    click(byTestId(root, 'leave-cancel'));
    expect(byTestId(root, 'tab-visits')!.getAttribute('aria-selected')).toBe('true');
    expect((root.querySelector('#visit-complaint') as HTMLTextAreaElement).value).toBe('Cough');
    click(byTestId(root, 'back-to-search'));
    click(await waitFor(() => byTestId(root, 'leave-confirm')));
    expect(onback).toHaveBeenCalledTimes(1);
  });
});

describe('clerks see demographics only', () => {
  it('PatientView without chart.read shows no banner, no chart tabs and reads no clinical record', async () => {
    const root = render(PatientView, { id: 'p1', initial: makePatient(), onedit: () => {}, onback: () => {} });
    await waitFor(() => byTestId(root, 'patient-details'));
    expect(byTestId(root, 'allergy-banner')).toBeNull();
    expect(byTestId(root, 'tab-summary')).toBeNull();
    expect(byTestId(root, 'tab-visits')).toBeNull();
    expect(byTestId(root, 'tab-vitals')).toBeNull();
    expect(byTestId(root, 'chart-summary')).toBeNull();
    expect(allByTestId(root, 'tab-details')).toHaveLength(1);
    expect(allByTestId(root, 'tab-history')).toHaveLength(1);
    expect(fakeApp.ChartSummary).not.toHaveBeenCalled();
  });

  it('a clerk signed in opens a patient on Details, with no chart calls at all', async () => {
    fakeApp.Status.mockResolvedValue(homeStatus(users.clerk));
    fakeApp.SearchPatients.mockResolvedValue([
      { id: 'p1', clinicNo: 'OP-00001', family: 'Moyo', given: 'Tendai', other: '', sex: 'male', birthDate: '1990-02-03', birthEstimated: false, age: '36 y', village: 'Hillside', match: 'name', restricted: false },
    ]);
    fakeApp.GetPatient.mockResolvedValue(makePatient());
    const root = render(App, {});
    type(await waitFor(() => root.querySelector<HTMLInputElement>('#search-input')), 'moyo');
    click(await waitFor(() => byTestId(root, 'hit-name')));
    await waitFor(() => byTestId(root, 'patient-details'));
    expect(byTestId(root, 'tab-details')!.getAttribute('aria-selected')).toBe('true');
    expect(byTestId(root, 'allergy-banner')).toBeNull();
    expect(byTestId(root, 'tab-summary')).toBeNull();
    for (const m of ['ChartSummary', 'VitalSeries', 'SaveEncounter', 'SaveObservation', 'SaveMedication']) expect(fakeApp[m]).not.toHaveBeenCalled();
  });
});

describe('visit: vital signs', () => {
  function renderVisit() {
    const onchanged = vi.fn(async () => {});
    const root = render(VisitForm, {
      patientId: 'p1',
      visit: chartItem('e1', makeEncounter()),
      canWrite: true,
      onchanged,
      onclose: () => {},
    });
    return { root, onchanged };
  }

  it('shows each unit, computes BMI from weight and height and saves it with them', async () => {
    const { root, onchanged } = renderVisit();
    expect(byTestId(root, 'vitals-form')!.querySelector('[data-vital="temperature"] [data-testid="vital-unit"]')!.textContent).toBe('°C');
    expect(byTestId(root, 'vitals-form')!.querySelector('[data-vital="systolic"] [data-testid="vital-unit"]')!.textContent).toBe('mmHg');
    expect(byTestId(root, 'bmi-value')!.textContent!.trim()).toBe('—');
    type(byTestId(root, 'vital-weight'), '70');
    expect(byTestId(root, 'bmi-value')!.textContent!.trim()).toBe('—');
    type(byTestId(root, 'vital-height'), '175');
    expect(byTestId(root, 'bmi-value')!.textContent!.trim()).toBe('22.9');
    type(byTestId(root, 'vital-weight'), '70,5');
    expect(byTestId(root, 'bmi-value')!.textContent!.trim()).toBe('23');

    let n = 0;
    fakeApp.SaveObservation.mockImplementation(async (req: SaveRequest<Observation>) => chartItem(`o${++n}`, { ...req.value }));
    click(byTestId(root, 'visit-save'));
    await waitFor(() => byTestId(root, 'visit-flash'));
    const sent = fakeApp.SaveObservation.mock.calls.map((c) => c[0] as SaveRequest<Observation>);
    expect(sent.map((r) => [r.value.vital, r.value.value, r.value.unit])).toEqual([
      ['weight', 70.5, 'kg'],
      ['height', 175, 'cm'],
      ['bmi', 23, 'kg/m2'],
    ]);
    for (const r of sent) {
      expect(r).toMatchObject({ id: '', baseVersionId: '', value: { patientId: 'p1', encounterId: 'e1' } });
      expect(r.value.effective).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    }
    // Nothing in the notes changed: the visit itself is not written.
    expect(fakeApp.SaveEncounter).not.toHaveBeenCalled();
    expect(onchanged).toHaveBeenCalled();
    expect((byTestId(root, 'vital-weight') as HTMLInputElement).value).toBe('');
    expect(allByTestId(root, 'vital-recorded').map((el) => el.dataset.vital)).toEqual(['weight', 'height', 'bmi']);
  });

  it('shows the backend message for an out-of-range value next to its field, and saves the fixed value', async () => {
    const { root } = renderVisit();
    type(byTestId(root, 'vital-pulse'), '88');
    type(byTestId(root, 'vital-temperature'), '60');
    type(root.querySelector('#visit-complaint'), 'Fever for 3 days');
    const message = 'Enter a plausible value, from 30 to 45 °C.';
    fakeApp.SaveEncounter.mockImplementation(async (req: SaveRequest<unknown>) => chartItem('e1', req.value, { versionId: 'e1-v2' }));
    fakeApp.SaveObservation.mockImplementation(async (req: SaveRequest<Observation>) => {
      if (req.value.vital === 'temperature' && req.value.value > 45) {
        throw { code: 'E_VALIDATION', message: 'Some fields need attention.', fields: { value: message } };
      }
      return chartItem(`o-${req.value.vital}-${req.value.value}`, { ...req.value });
    });
    click(byTestId(root, 'visit-save'));
    const err = await waitFor(() => byTestId(root, 'field-error-vital-temperature'));
    expect(err.textContent).toBe(message);
    const input = byTestId(root, 'vital-temperature') as HTMLInputElement;
    expect(input.value).toBe('60');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(input.getAttribute('aria-describedby')).toContain('vital-temperature-error');
    expect(byTestId(root, 'visit-problem')).not.toBeNull();
    expect(byTestId(root, 'visit-flash')).toBeNull();
    // The notes went with a reason (every new version needs one), the pulse was saved.
    expect(fakeApp.SaveEncounter).toHaveBeenCalledWith({
      id: 'e1',
      baseVersionId: 'e1-v1',
      reason: 'visit note edited',
      value: expect.objectContaining({ complaint: 'Fever for 3 days', status: 'open' }),
    });
    expect(allByTestId(root, 'vital-recorded').map((el) => el.dataset.vital)).toEqual(['pulse']);

    type(input, '38.4');
    expect(byTestId(root, 'field-error-vital-temperature')).toBeNull();
    click(byTestId(root, 'visit-save'));
    await waitFor(() => byTestId(root, 'visit-flash'));
    expect(byTestId(root, 'field-error-vital-temperature')).toBeNull();
    const last = fakeApp.SaveObservation.mock.calls.at(-1)![0] as SaveRequest<Observation>;
    expect(last.value).toMatchObject({ vital: 'temperature', value: 38.4, unit: 'Cel', encounterId: 'e1' });
    // Only the temperature was sent again; the notes were already saved.
    expect(fakeApp.SaveObservation).toHaveBeenCalledTimes(3);
    expect(fakeApp.SaveEncounter).toHaveBeenCalledTimes(1);
    expect(allByTestId(root, 'vital-recorded').map((el) => el.dataset.vital)).toEqual(['pulse', 'temperature']);
  });

  it('closing and signing saves first, then signs; a signed visit is read-only and amends with a reason', async () => {
    const { root } = renderVisit();
    type(root.querySelector('#visit-assessment'), 'Malaria, uncomplicated');
    fakeApp.SaveEncounter.mockImplementationOnce(async (req: SaveRequest<unknown>) => chartItem('e1', req.value, { versionId: 'e1-v2' }));
    fakeApp.SignEncounter.mockResolvedValueOnce(
      chartItem('e1', makeEncounter({ status: 'signed', assessment: 'Malaria, uncomplicated', signedBy: 'dr.sam', signedAt: '2026-11-23T10:00:00Z', end: '2026-11-23T10:00:00Z' }), { versionId: 'e1-v3' }),
    );
    click(byTestId(root, 'visit-sign'));
    click(byTestId(root, 'sign-confirm-yes'));
    await waitFor(() => byTestId(root, 'visit-form')?.dataset.status === 'signed');
    expect(fakeApp.SignEncounter).toHaveBeenCalledWith({ id: 'e1', baseVersionId: 'e1-v2' });
    expect(root.querySelector('#visit-assessment')).toBeNull();
    expect(byTestId(root, 'visit-text-assessment')!.textContent).toBe('Malaria, uncomplicated');
    expect(byTestId(root, 'visit-save')).toBeNull();
    expect(byTestId(root, 'prescription-form')).toBeNull();
    expect(byTestId(root, 'vital-temperature')).toBeNull();

    click(byTestId(root, 'visit-amend'));
    type(root.querySelector('#visit-plan'), 'Review in 3 days');
    click(byTestId(root, 'amend-save'));
    await waitFor(() => byTestId(root, 'field-error-reason'));
    expect(fakeApp.SaveEncounter).toHaveBeenCalledTimes(1);
    fakeApp.SaveEncounter.mockImplementationOnce(async (req: SaveRequest<unknown>) =>
      chartItem('e1', { ...(req.value as object), amendReason: req.reason }, { versionId: 'e1-v4' }),
    );
    type(root.querySelector('#visit-reason'), 'Plan was left out');
    click(byTestId(root, 'amend-save'));
    await waitFor(() => byTestId(root, 'visit-amend-reason'));
    expect(fakeApp.SaveEncounter).toHaveBeenLastCalledWith({
      id: 'e1',
      baseVersionId: 'e1-v3',
      reason: 'Plan was left out',
      value: expect.objectContaining({ status: 'signed', plan: 'Review in 3 days', signedBy: 'dr.sam' }),
    });
    expect(byTestId(root, 'visit-text-plan')!.textContent).toBe('Review in 3 days');
  });
});

describe('prescribing: the allergy warning', () => {
  function renderForm() {
    const onsaved = vi.fn();
    const root = render(PrescriptionForm, { patientId: 'p1', encounterId: 'e1', onsaved });
    type(root.querySelector('#rx-drug'), 'Penicillin V 250 mg');
    type(root.querySelector('#rx-dose'), '1 tablet');
    type(root.querySelector('#rx-frequency'), 'four times daily');
    return { root, onsaved };
  }

  it('names the matching allergies; Cancel prescribes nothing', async () => {
    const { root, onsaved } = renderForm();
    fakeApp.SaveMedication.mockResolvedValueOnce({ warnings: [makeAllergy(), makeAllergy({ substance: { text: XSS }, reaction: '', severity: '' })] });
    click(byTestId(root, 'prescribe-submit'));
    const dialog = await waitFor(() => byTestId(document.body, 'allergy-warning'));
    expect(dialog.getAttribute('role')).toBe('alertdialog');
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    const items = allByTestId(dialog, 'allergy-warning-item').map((el) => el.textContent!.replace(/\s+/g, ' ').trim());
    expect(items).toEqual([
      'Penicillin — reaction: rash — severity: moderate',
      `${XSS} — reaction: not recorded — severity: not recorded`,
    ]);
    expect(byTestId(dialog, 'allergy-warning-drug')!.textContent).toBe('Penicillin V 250 mg');
    expect(dialog.querySelector('img')).toBeNull();
    expect(document.activeElement).toBe(byTestId(dialog, 'allergy-warning-cancel'));
    expect(fakeApp.SaveMedication).toHaveBeenCalledWith({
      id: '',
      baseVersionId: '',
      reason: '',
      override: false,
      value: expect.objectContaining({
        patientId: 'p1',
        encounterId: 'e1',
        kind: 'prescribed',
        drug: { text: 'Penicillin V 250 mg' },
        dose: '1 tablet',
        frequency: 'four times daily',
        status: 'active',
      }),
    });

    click(byTestId(dialog, 'allergy-warning-cancel'));
    expect(byTestId(document.body, 'allergy-warning')).toBeNull();
    expect(fakeApp.SaveMedication).toHaveBeenCalledTimes(1);
    expect(onsaved).not.toHaveBeenCalled();
    // The form keeps what was typed, so that another drug can be chosen.
    expect((root.querySelector('#rx-drug') as HTMLInputElement).value).toBe('Penicillin V 250 mg');
  });

  it('Escape cancels the warning too', async () => {
    const { root } = renderForm();
    fakeApp.SaveMedication.mockResolvedValueOnce({ warnings: [makeAllergy()] });
    click(byTestId(root, 'prescribe-submit'));
    const dialog = await waitFor(() => byTestId(document.body, 'allergy-warning'));
    dialog.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    await waitFor(() => !byTestId(document.body, 'allergy-warning'));
    expect(fakeApp.SaveMedication).toHaveBeenCalledTimes(1);
  });

  it('"Prescribe anyway" needs a reason and resends with override', async () => {
    const { root, onsaved } = renderForm();
    fakeApp.SaveMedication.mockResolvedValueOnce({ warnings: [makeAllergy()] });
    click(byTestId(root, 'prescribe-submit'));
    const dialog = await waitFor(() => byTestId(document.body, 'allergy-warning'));

    click(byTestId(dialog, 'allergy-warning-override'));
    await waitFor(() => byTestId(dialog, 'field-error-reason'));
    expect(fakeApp.SaveMedication).toHaveBeenCalledTimes(1);

    const saved = chartItem('m1', {
      patientId: 'p1', encounterId: 'e1', kind: 'prescribed' as const, drug: { text: 'Penicillin V 250 mg' }, dose: '1 tablet', route: '',
      frequency: 'four times daily', duration: '', status: 'active' as const, start: '2026-11-23', note: '',
    });
    fakeApp.SaveMedication.mockResolvedValueOnce({ saved, warnings: [makeAllergy()] });
    type(dialog.querySelector('#override-reason'), 'Tolerated before, skin test negative');
    click(byTestId(dialog, 'allergy-warning-override'));
    await waitFor(() => !byTestId(document.body, 'allergy-warning'));
    expect(fakeApp.SaveMedication).toHaveBeenLastCalledWith({
      id: '',
      baseVersionId: '',
      reason: 'Tolerated before, skin test negative',
      override: true,
      value: expect.objectContaining({ drug: { text: 'Penicillin V 250 mg' }, dose: '1 tablet' }),
    });
    expect(onsaved).toHaveBeenCalledWith(saved);
    expect(byTestId(root, 'prescription-flash')!.textContent).toMatch(/despite the recorded allergy to Penicillin/);
    expect((root.querySelector('#rx-drug') as HTMLInputElement).value).toBe('');
  });

  it('a prescription without warnings is saved at once; field errors land on their fields', async () => {
    const { root, onsaved } = renderForm();
    fakeApp.SaveMedication.mockRejectedValueOnce({ code: 'E_VALIDATION', message: 'Some fields need attention.', fields: { dose: 'Enter the dose of a prescription.' } });
    click(byTestId(root, 'prescribe-submit'));
    const err = await waitFor(() => byTestId(root, 'field-error-dose'));
    expect(err.textContent).toBe('Enter the dose of a prescription.');
    expect(byTestId(document.body, 'allergy-warning')).toBeNull();

    fakeApp.SaveMedication.mockResolvedValueOnce({ saved: chartItem('m2', {} as never), warnings: [] });
    click(byTestId(root, 'prescribe-submit'));
    await waitFor(() => onsaved.mock.calls.length === 1);
    expect(byTestId(document.body, 'allergy-warning')).toBeNull();
  });
});

describe('vital sign plots', () => {
  it('draws a canvas for a series, with the values also as a table', () => {
    stubCanvas();
    const plot = PLOTS.find((p) => p.id === 'temperature')!;
    const root = render(VitalPlot, {
      plot,
      series: [
        {
          key: 'temperature',
          label: 'Temperature',
          points: [
            { at: '2026-11-20T09:00:00Z', value: 37.2, unit: 'Cel' },
            { at: '2026-11-23T09:00:00Z', value: 38.4, unit: 'Cel' },
          ],
        },
      ],
    });
    const el = byTestId(root, 'vital-plot')!;
    expect(el.dataset.points).toBe('2');
    const host = byTestId(el, 'vital-plot-canvas')!;
    expect(host.querySelector('canvas')).not.toBeNull();
    expect(host.querySelector('.uplot')).not.toBeNull();
    expect(host.getAttribute('role')).toBe('img');
    expect(host.getAttribute('aria-label')).toMatch(/Temperature over time, 2 values; latest: Temperature 38.4 °C/);
    const rows = byTestId(el, 'vital-plot-table')!.querySelectorAll('tbody tr');
    expect(rows).toHaveLength(2);
    expect(rows[1].textContent).toContain('38.4 °C');
  });

  it('a single point is drawn too; no points says so instead of drawing', () => {
    stubCanvas();
    const plot = PLOTS.find((p) => p.id === 'bp')!;
    const one = render(VitalPlot, {
      plot,
      series: [
        { key: 'systolic', label: 'Systolic', points: [{ at: '2026-11-23T09:00:00Z', value: 120, unit: 'mm[Hg]' }] },
        { key: 'diastolic', label: 'Diastolic', points: [{ at: '2026-11-23T09:00:00Z', value: 80, unit: 'mm[Hg]' }] },
      ],
    });
    expect(one.querySelector('canvas')).not.toBeNull();
    const none = render(VitalPlot, { plot, series: [{ key: 'systolic', label: 'Systolic', points: [] }] });
    expect(byTestId(none, 'vital-plot-empty')).not.toBeNull();
    expect(none.querySelector('canvas')).toBeNull();
  });

  it('the Vitals tab reads each series and plots those with values', async () => {
    stubCanvas();
    fakeApp.VitalSeries.mockImplementation(async (req: { vital: string }) =>
      req.vital === 'temperature' ? [{ at: '2026-11-23T09:00:00Z', value: 38.4, unit: 'Cel' }] : [],
    );
    const root = render(PatientView, { id: 'p1', initial: makePatient(), canChartRead: true, onedit: () => {}, onback: () => {} });
    click(await waitFor(() => byTestId(root, 'tab-vitals')));
    const temp = await waitFor(() => root.querySelector<HTMLElement>('[data-testid="vital-plot"][data-plot="temperature"]'));
    expect(temp.querySelector('canvas')).not.toBeNull();
    expect(fakeApp.VitalSeries).toHaveBeenCalledWith({ patientId: 'p1', vital: 'temperature' });
    // Blood pressure, pulse, temperature and weight are always there; the others only with values.
    expect(allByTestId(root, 'vital-plot').map((el) => el.dataset.plot)).toEqual(['bp', 'pulse', 'temperature', 'weight']);
    expect(root.querySelector('[data-plot="bp"] [data-testid="vital-plot-empty"]')).not.toBeNull();
  });
});
