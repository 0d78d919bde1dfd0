import { describe, expect, it, vi } from 'vitest';
import AdminSecurityReport, { badgeClass, statusLabel } from '../src/components/AdminSecurityReport.svelte';
import type { SecurityReport } from '../src/lib/api';
import { fakeApp } from './fakeGo';
import { allByTestId, byTestId, click, render, waitFor } from './render';

const XSS = '<img src=x onerror=alert(1)>';

function report(over: Partial<SecurityReport> = {}): SecurityReport {
  return {
    at: '2026-11-23T12:00:00Z',
    clinic: 'Hill Clinic',
    device: 'dev-1',
    version: '1.2.3',
    rows: [
      { id: 'S1', title: 'Deleting a user or a clinical record needs a second authorised person', status: 'ok', evidence: ['waiting for a second person now: 0'] },
      { id: 'S16', title: 'Update and security-patch notifications', status: 'fail', evidence: ['update metadata EXPIRED', XSS] },
      { id: 'S23', title: 'Limited session duration', status: 'warn', evidence: ['idle lock: 30 min'] },
      { id: 'S27', title: 'Code review of changes', status: 'info', evidence: null },
      { id: 'S11', title: 'Denial-of-service limits', status: 'n/a', evidence: [] },
    ],
    counts: { ok: 1, fail: 1, warn: 1, info: 1, 'n/a': 1 },
    openAlerts: {},
    ...over,
  };
}

describe('AdminSecurityReport', () => {
  it('lists every row with its id, title, status and evidence, as text', async () => {
    fakeApp.SecurityReport = vi.fn(async () => report());
    const root = render(AdminSecurityReport, {});
    await waitFor(() => byTestId(root, 'security-report-table'));
    expect(fakeApp.SecurityReport).toHaveBeenCalledTimes(1);
    const rows = allByTestId(root, 'security-row');
    expect(rows.map((r) => r.dataset.rowId)).toEqual(['S1', 'S16', 'S23', 'S27', 'S11']);
    expect(rows[1].textContent).toContain('Update and security-patch notifications');
    expect(rows[1].querySelector('[data-testid="security-status"]')?.textContent).toBe('Failing');
    expect(rows[1].querySelector('.badge')?.classList.contains('restricted')).toBe(true);
    expect(rows[2].querySelector('.badge')?.classList.contains('warn')).toBe(true);
    // Evidence is shown as text, never as markup.
    expect(rows[1].textContent).toContain(XSS);
    expect(root.querySelector('img')).toBeNull();
    expect(byTestId(root, 'security-report-summary')?.textContent).toMatch(/Hill Clinic, Outpost 1\.2\.3, .*1 failing, 1 needing\s+attention, 1 OK\./);
  });

  it('filters by status, with the count of each', async () => {
    fakeApp.SecurityReport = vi.fn(async () => report());
    const root = render(AdminSecurityReport, {});
    await waitFor(() => byTestId(root, 'security-report-table'));
    expect(byTestId(root, 'security-filter-warn')?.parentElement?.textContent).toContain('Attention (1)');
    click(byTestId(root, 'security-filter-fail'));
    expect(allByTestId(root, 'security-row').map((r) => r.dataset.rowId)).toEqual(['S16']);
    click(byTestId(root, 'security-filter-info'));
    expect(allByTestId(root, 'security-row').map((r) => r.dataset.rowId)).toEqual(['S27']);
    click(byTestId(root, 'security-filter-all'));
    expect(allByTestId(root, 'security-row')).toHaveLength(5);
  });

  it('says when no row has the chosen status, and reloads on demand', async () => {
    const fixed = report({ rows: report().rows.map((r) => (r.status === 'fail' ? { ...r, status: 'ok' } : r)) });
    fakeApp.SecurityReport = vi.fn().mockResolvedValueOnce(report()).mockResolvedValueOnce(fixed);
    const root = render(AdminSecurityReport, {});
    await waitFor(() => byTestId(root, 'security-report-table'));
    click(byTestId(root, 'security-filter-fail'));
    expect(allByTestId(root, 'security-row')).toHaveLength(1);
    click(byTestId(root, 'security-report-reload'));
    await waitFor(() => byTestId(root, 'security-report-empty'));
    expect(fakeApp.SecurityReport).toHaveBeenCalledTimes(2);
  });

  it('shows a refusal as a problem', async () => {
    fakeApp.SecurityReport = vi.fn(async () => {
      throw { code: 'E_FORBIDDEN', message: 'Your role does not allow this.' };
    });
    const root = render(AdminSecurityReport, {});
    const p = await waitFor(() => byTestId(root, 'problem'));
    expect(p.dataset.code).toBe('E_FORBIDDEN');
    expect(p.textContent).toContain('The security report could not be made.');
    expect(byTestId(root, 'security-report-table')).toBeNull();
  });

  it('names and styles each status', () => {
    expect(['ok', 'warn', 'fail', 'info', 'n/a'].map(statusLabel)).toEqual(['OK', 'Attention', 'Failing', 'Process', 'Not applicable']);
    expect(['ok', 'warn', 'fail', 'info', 'n/a', 'odd'].map(badgeClass)).toEqual(['ok', 'warn', 'restricted', 'off', 'off', 'off']);
    expect(statusLabel('odd')).toBe('odd');
  });
});
