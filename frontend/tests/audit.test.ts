import { describe, expect, it } from 'vitest';
import AuditViewer, { AUDIT_PAGE, initialAuditFilter } from '../src/components/AuditViewer.svelte';
import Home from '../src/components/Home.svelte';
import { api, type AuditFilter, type AuditPage, type User } from '../src/lib/api';
import { fakeApp, homeStatus, makeAuditEntry, users } from './fakeGo';
import { allByTestId, byTestId, click, render, type, waitFor } from './render';

const XSS = '<img src=x onerror=alert(1)>';

const officer: User = { username: 'off.icer', name: 'Olu Officer', roles: ['officer'], permissions: ['alerts.read', 'audit.read', 'self'] };
const auditor: User = { username: 'aud.itor', name: 'Ada Auditor', roles: ['auditor'], permissions: ['audit.read', 'self'] };

const homeProps = { loginInfo: null, ondismissbanner: () => {}, onlogout: () => {}, onlock: () => {}, onpasswordchanged: () => {}, onsetupmfa: () => {} };

/** A page of n events, numbered down from top, out of total. */
function pageOf(n: number, total: number, offset = 0, top = total - offset): AuditPage {
  return {
    events: Array.from({ length: n }, (_, i) => makeAuditEntry({ seq: top - i, username: i % 2 ? 'nurse.eve' : 'dr.sam' })),
    total,
    offset,
    limit: AUDIT_PAGE,
  };
}

/** The filter of the latest ListAudit call. */
function lastFilter(): AuditFilter {
  const calls = fakeApp.ListAudit.mock.calls;
  return calls[calls.length - 1][0] as AuditFilter;
}

/**
 * Chooses an option as a user would. Svelte's binding reads the option that matches :checked, which
 * happy-dom matches only on inputs; its fallback is the first option not disabled, so the others are
 * disabled while the change event runs.
 */
function pick(select: HTMLSelectElement, value: string) {
  const others = [...select.options].filter((o) => o.value !== value);
  select.value = value;
  for (const o of others) o.disabled = true;
  select.dispatchEvent(new Event('change', { bubbles: true }));
  for (const o of others) o.disabled = false;
}

function submit(root: HTMLElement) {
  const form = byTestId(root, 'audit-filter') as HTMLFormElement;
  form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
}

describe('the api wrappers', () => {
  it('normalise a page and pass the export request through', async () => {
    fakeApp.ListAudit.mockResolvedValueOnce({ events: [{ ...makeAuditEntry(), roles: null, addresses: null }], total: 1 });
    const p = await api.listAudit(initialAuditFilter());
    expect(p).toEqual({ events: [makeAuditEntry({ roles: [], addresses: [] })], total: 1, offset: 0, limit: 0 });
    fakeApp.ListAudit.mockResolvedValueOnce(null);
    expect(await api.listAudit(initialAuditFilter())).toEqual({ events: [], total: 0, offset: 0, limit: 0 });

    fakeApp.SaveAuditExport.mockResolvedValueOnce({ name: 'outpost-audit-2026-11-23.csv' });
    const f = { ...initialAuditFilter(), username: 'dr.sam' };
    expect(await api.saveAuditExport({ format: 'csv', filter: f })).toEqual({ name: 'outpost-audit-2026-11-23.csv' });
    expect(fakeApp.SaveAuditExport).toHaveBeenCalledWith({ format: 'csv', filter: f });
  });
});

describe('the Audit trail area', () => {
  it('is in the top bar for audit.read only (officer and auditor)', async () => {
    for (const u of [users.clinician, users.nurse, users.clerk, users.admin]) {
      const root = render(Home, { ...homeProps, status: homeStatus(u) });
      expect(byTestId(root, 'nav-audit')).toBeNull();
    }
    const off = render(Home, { ...homeProps, status: homeStatus(officer) });
    const nav = byTestId(off, 'nav-audit')!;
    expect(nav.textContent!.trim()).toBe('Audit trail');
    click(nav);
    await waitFor(() => byTestId(off, 'audit-area'));
    await waitFor(() => document.activeElement?.id === 'area-title');

    // The auditor has nothing else, so it opens there.
    const aud = render(Home, { ...homeProps, status: homeStatus(auditor) });
    await waitFor(() => byTestId(aud, 'audit-area'));
    expect(byTestId(aud, 'nav-alerts')).toBeNull();
  });
});

describe('the Security report area', () => {
  it('is in the top bar for security officers; administrators have it under Administration', async () => {
    for (const u of [users.clinician, users.nurse, users.clerk, users.admin, auditor]) {
      const root = render(Home, { ...homeProps, status: homeStatus(u) });
      expect(byTestId(root, 'nav-report')).toBeNull();
    }
    const off = render(Home, { ...homeProps, status: homeStatus(officer) });
    const nav = byTestId(off, 'nav-report')!;
    expect(nav.textContent!.trim()).toBe('Security report');
    click(nav);
    await waitFor(() => byTestId(off, 'report-area'));
    await waitFor(() => document.activeElement?.id === 'area-title');
  });
});

describe('AuditViewer', () => {
  it('opens on every event, newest first, and shows each as plain text', async () => {
    fakeApp.ListAudit.mockResolvedValueOnce({
      events: [
        makeAuditEntry({ seq: 2, username: XSS, action: XSS, outcome: 'denied', patientId: XSS, workstation: XSS, detail: XSS, reason: XSS, onBehalfOf: XSS }),
        makeAuditEntry({ seq: 1, addresses: ['192.0.2.7', '2001:db8::1'], osUser: 'clinic' }),
      ],
      total: 2,
      offset: 0,
      limit: AUDIT_PAGE,
    });
    const root = render(AuditViewer, {});
    await waitFor(() => allByTestId(root, 'audit-row').length === 2);
    expect(fakeApp.ListAudit).toHaveBeenCalledTimes(1);
    expect(lastFilter()).toEqual({ from: '', to: '', username: '', patientId: '', action: '', outcome: '', sort: 'at', desc: true, limit: AUDIT_PAGE, offset: 0 });
    expect(byTestId(root, 'audit-count')!.textContent!.trim()).toBe('Events 1–2 of 2');
    const row = allByTestId(root, 'audit-row')[0];
    expect(row.dataset.seq).toBe('2');
    for (const id of ['audit-username', 'audit-action', 'audit-patient', 'audit-workstation', 'audit-detail']) {
      expect(byTestId(row, id)!.textContent).toBe(XSS);
    }
    expect(root.querySelector('img')).toBeNull();
    expect(row.textContent).toContain('Emergency access reason');
    expect(allByTestId(root, 'audit-row')[1].textContent).toContain('192.0.2.7 2001:db8::1');
    // Time order, newest first, is the sorted column.
    expect(root.querySelector('th[aria-sort]')!.textContent).toContain('When');
    expect(root.querySelector('th[aria-sort]')!.getAttribute('aria-sort')).toBe('descending');
    expect(root.querySelectorAll('th[aria-sort]').length).toBe(1);
  });

  it('filters by dates, user, patient, action and outcome, and shows field errors in place', async () => {
    const root = render(AuditViewer, {});
    await waitFor(() => byTestId(root, 'audit-count')!.textContent!.includes('No events.'));
    type(root.querySelector('#audit-from'), ' 2026-11-01 ');
    type(root.querySelector('#audit-to'), '2026-11-30');
    type(root.querySelector('#audit-username'), 'dr.sam');
    type(root.querySelector('#audit-patientId'), 'p1');
    type(root.querySelector('#audit-action'), 'patient.*');
    pick(root.querySelector<HTMLSelectElement>('#audit-outcome')!, 'denied');
    fakeApp.ListAudit.mockResolvedValueOnce(pageOf(1, 1));
    submit(root);
    await waitFor(() => allByTestId(root, 'audit-row').length === 1);
    expect(lastFilter()).toEqual({ from: '2026-11-01', to: '2026-11-30', username: 'dr.sam', patientId: 'p1', action: 'patient.*', outcome: 'denied', sort: 'at', desc: true, limit: AUDIT_PAGE, offset: 0 });

    // A bad date: the backend's field message at the field; the rows stay.
    fakeApp.ListAudit.mockRejectedValueOnce({ code: 'E_VALIDATION', message: 'Some fields need attention.', fields: { from: 'Enter a date (YYYY-MM-DD).' } });
    type(root.querySelector('#audit-from'), '01/11/2026');
    submit(root);
    await waitFor(() => byTestId(root, 'field-error-from'));
    expect(byTestId(root, 'field-error-from')!.textContent).toBe('Enter a date (YYYY-MM-DD).');
    expect(root.querySelector('#audit-from')!.getAttribute('aria-invalid')).toBe('true');
    expect(byTestId(root, 'audit-problem')).not.toBeNull();
    expect(allByTestId(root, 'audit-row').length).toBe(1);

    // Clear: everything again, and the errors go.
    fakeApp.ListAudit.mockResolvedValueOnce(pageOf(3, 3));
    click(byTestId(root, 'audit-clear'));
    await waitFor(() => allByTestId(root, 'audit-row').length === 3);
    expect(lastFilter()).toEqual(initialAuditFilter());
    expect(byTestId(root, 'field-error-from')).toBeNull();
    expect(byTestId(root, 'audit-problem')).toBeNull();
    expect(root.querySelector<HTMLInputElement>('#audit-username')!.value).toBe('');
  });

  it('sorts by a column header (a button: keyboard and aria-sort), turning it around on a second press', async () => {
    fakeApp.ListAudit.mockResolvedValue(pageOf(3, 3));
    const root = render(AuditViewer, {});
    await waitFor(() => allByTestId(root, 'audit-row').length === 3);
    const header = byTestId(root, 'audit-sort-username')!;
    expect(header.tagName).toBe('BUTTON');
    expect(header.closest('th')!.hasAttribute('aria-sort')).toBe(false);
    click(header);
    await waitFor(() => header.closest('th')!.getAttribute('aria-sort') === 'ascending');
    expect(lastFilter()).toMatchObject({ sort: 'username', desc: false, offset: 0 });
    expect(byTestId(root, 'audit-sort-at')!.closest('th')!.hasAttribute('aria-sort')).toBe(false);
    click(header);
    await waitFor(() => header.closest('th')!.getAttribute('aria-sort') === 'descending');
    expect(lastFilter()).toMatchObject({ sort: 'username', desc: true });
    // Back to time: newest first.
    click(byTestId(root, 'audit-sort-at'));
    await waitFor(() => byTestId(root, 'audit-sort-at')!.closest('th')!.getAttribute('aria-sort') === 'descending');
    expect(lastFilter()).toMatchObject({ sort: 'at', desc: true });
    click(byTestId(root, 'audit-sort-outcome'));
    await waitFor(() => lastFilter().sort === 'outcome');
    expect(byTestId(root, 'audit-prev')!.textContent!.trim()).toBe('Previous');
  });

  it('pages: Older goes on to older events, Newer back', async () => {
    fakeApp.ListAudit.mockImplementation(async (f: AuditFilter) => pageOf(Math.min(AUDIT_PAGE, 120 - f.offset), 120, f.offset));
    const root = render(AuditViewer, {});
    await waitFor(() => allByTestId(root, 'audit-row').length === AUDIT_PAGE);
    const newer = byTestId(root, 'audit-prev') as HTMLButtonElement;
    const older = byTestId(root, 'audit-next') as HTMLButtonElement;
    expect(newer.textContent!.trim()).toBe('Newer');
    expect(older.textContent!.trim()).toBe('Older');
    expect(newer.disabled).toBe(true);
    expect(byTestId(root, 'audit-count')!.textContent!.trim()).toBe('Events 1–50 of 120');
    click(older);
    await waitFor(() => byTestId(root, 'audit-count')!.textContent!.includes('51–100'));
    click(older);
    await waitFor(() => byTestId(root, 'audit-count')!.textContent!.includes('101–120'));
    expect(allByTestId(root, 'audit-row').length).toBe(20);
    expect(older.disabled).toBe(true);
    expect(lastFilter().offset).toBe(100);
    click(newer);
    await waitFor(() => byTestId(root, 'audit-count')!.textContent!.includes('51–100'));
    expect(lastFilter().offset).toBe(50);
  });

  it('exports what the filter shows as CSV or FHIR AuditEvent and names the saved file', async () => {
    fakeApp.ListAudit.mockResolvedValue(pageOf(2, 2));
    const root = render(AuditViewer, {});
    await waitFor(() => allByTestId(root, 'audit-row').length === 2);
    type(root.querySelector('#audit-username'), 'dr.sam');
    submit(root);
    await waitFor(() => lastFilter().username === 'dr.sam');
    // Typed but not applied: the export follows the table, not the form.
    type(root.querySelector('#audit-action'), 'user.login');

    fakeApp.SaveAuditExport.mockResolvedValueOnce({ name: 'outpost-audit-2026-11-23.csv' });
    click(byTestId(root, 'audit-export-csv'));
    await waitFor(() => byTestId(root, 'audit-export-saved'));
    expect(byTestId(root, 'audit-export-saved')!.textContent).toBe('Saved as outpost-audit-2026-11-23.csv.');
    expect(fakeApp.SaveAuditExport).toHaveBeenLastCalledWith({ format: 'csv', filter: { ...initialAuditFilter(), username: 'dr.sam' } });

    fakeApp.SaveAuditExport.mockResolvedValueOnce({ name: 'outpost-audit-2026-11-23.ndjson' });
    click(byTestId(root, 'audit-export-fhir'));
    await waitFor(() => byTestId(root, 'audit-export-saved')?.textContent?.includes('.ndjson'));
    expect(fakeApp.SaveAuditExport.mock.calls[1][0].format).toBe('fhir');

    // Cancelled: nothing to say. Refused: why.
    fakeApp.SaveAuditExport.mockResolvedValueOnce({ name: '' });
    click(byTestId(root, 'audit-export-csv'));
    await waitFor(() => fakeApp.SaveAuditExport.mock.calls.length === 3 && !byTestId(root, 'audit-export-saved'));
    fakeApp.SaveAuditExport.mockRejectedValueOnce({ code: 'E_VALIDATION', message: '150000 events match; at most 100000 can be exported at once.' });
    click(byTestId(root, 'audit-export-fhir'));
    await waitFor(() => byTestId(root, 'audit-export-problem'));
    expect(byTestId(root, 'audit-export-problem')!.textContent).toContain('at most 100000');
  });

  it('drops an answer overtaken by a newer request', async () => {
    let answerFirst!: (p: AuditPage) => void;
    fakeApp.ListAudit.mockImplementationOnce(() => new Promise<AuditPage>((r) => (answerFirst = r)));
    const root = render(AuditViewer, {});
    fakeApp.ListAudit.mockResolvedValueOnce(pageOf(1, 1));
    type(root.querySelector('#audit-username'), 'dr.sam');
    submit(root);
    await waitFor(() => allByTestId(root, 'audit-row').length === 1);
    answerFirst(pageOf(5, 5));
    await new Promise((r) => setTimeout(r, 20));
    expect(allByTestId(root, 'audit-row').length).toBe(1);
    expect(byTestId(root, 'audit-count')!.textContent!.trim()).toBe('Events 1–1 of 1');
  });
});
