import { describe, expect, it, vi } from 'vitest';
import SummaryPanel from '../src/components/SummaryPanel.svelte';
import VisitsPanel from '../src/components/VisitsPanel.svelte';
import type { Medication, Note, Observation } from '../src/lib/api';
import { chartItem, emptyChart, fakeApp, makeEncounter } from './fakeGo';
import { allByTestId, byTestId, render, waitFor } from './render';

const obs = (vital: string, value: number): Observation => ({
  patientId: 'p1', encounterId: 'v1', vital, value, unit: vital === 'temperature' ? 'Cel' : '/min', effective: '2026-01-05T09:10:00Z',
});

describe('a past visit', () => {
  it('shows every vital sign, prescription and note recorded at it, not only the latest on the chart', async () => {
    const visit = chartItem('v1', makeEncounter({ status: 'signed', signedBy: 'dr.sam', signedAt: '2026-01-05T10:00:00Z', start: '2026-01-05T09:00:00Z' }));
    const stopped: Medication = {
      patientId: 'p1', encounterId: 'v1', kind: 'prescribed', drug: { text: 'Amoxicillin 500 mg' }, dose: '1 capsule', route: 'oral',
      frequency: 'three times daily', duration: '5 days', status: 'stopped', start: '2026-01-05', note: '',
    };
    const note: Note = { patientId: 'p1', encounterId: 'v1', title: 'Counselling', text: 'Fluids & rest <b>now</b>' };
    fakeApp.VisitRecords = vi.fn(async () => ({
      visit,
      vitals: [chartItem('o1', obs('temperature', 38.5)), chartItem('o2', obs('pulse', 101))],
      medications: [chartItem('m1', stopped)],
      notes: [chartItem('n1', note)],
    }));
    // The summary knows the visit, but its latest vital signs and active medications came later.
    const summary = emptyChart({ visits: [visit] });
    const target = render(VisitsPanel, { patientId: 'p1', summary, canWrite: false, openVisitId: 'v1', onchanged: async () => {} });
    await waitFor(() => allByTestId(target, 'vital-recorded').length === 2);
    expect(fakeApp.VisitRecords).toHaveBeenCalledWith('v1');
    expect(byTestId(target, 'prescription-item')?.textContent).toContain('Amoxicillin 500 mg');
    expect(byTestId(target, 'visit-note')?.textContent).toContain('Fluids & rest <b>now</b>');
    expect(target.querySelector('[data-testid="visit-note"] b')).toBeNull();
  });
});

describe('the summary', () => {
  it('lists recent notes with their author', () => {
    const note: Note = { patientId: 'p1', encounterId: '', title: 'Phone call', text: 'Daughter called about results.' };
    const summary = emptyChart({ notes: [chartItem('n1', note, { author: 'nurse.joy' })] });
    const target = render(SummaryPanel, { patientId: 'p1', summary, onchanged: async () => {}, onopenvisit: () => {} });
    const item = byTestId(target, 'note-item');
    expect(item?.textContent).toContain('Phone call');
    expect(item?.textContent).toContain('nurse.joy');
    expect(item?.textContent).toContain('Daughter called about results.');
  });
});
