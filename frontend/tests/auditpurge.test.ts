import { describe, expect, it, vi } from 'vitest';
import { flushSync } from 'svelte';
import AdminSettings from '../src/components/AdminSettings.svelte';
import AuditPurge from '../src/components/AuditPurge.svelte';
import type { AuditPurgeRange, AuditPurgeRequest, AuditPurges } from '../src/lib/api';
import { fakeApp } from './fakeGo';
import { allByTestId, byTestId, click, render, type, waitFor } from './render';

const old: AuditPurgeRange = { events: 1200, from: 1, through: 1200, oldest: '2015-03-02T09:00:00Z', newest: '2015-11-30T17:00:00Z' };

function purges(over: Partial<AuditPurges> = {}): AuditPurges {
  return {
    retentionYears: 10, cutoff: '2016-04-06T09:00:00Z', purgedThrough: 0, purgedAt: '', eligible: old, notEligible: '', pending: [], ...over,
  };
}

function request(over: Partial<AuditPurgeRequest> = {}): AuditPurgeRequest {
  return { id: 'r1', requestedBy: 'off.ada', reason: 'Ten years kept', at: '2026-04-06T09:00:00Z', mine: false, ...old, ...over };
}

function submit(form: Element | null) {
  (form as HTMLFormElement).requestSubmit();
  flushSync();
}

describe('AuditPurge', () => {
  it('shows the retention and what is old enough, and asks with a reason', async () => {
    fakeApp.ListAuditPurges = vi.fn(async () => purges());
    fakeApp.RequestAuditPurge = vi.fn(async () => request({ mine: true, requestedBy: 'admin' }));
    const root = render(AuditPurge, {});
    await waitFor(() => byTestId(root, 'purge-eligible'));
    expect(byTestId(root, 'purge-retention')?.textContent).toContain('10 years');
    expect(byTestId(root, 'purge-eligible')?.textContent).toContain('1200 events, No. 1 to 1200');
    expect(byTestId(root, 'purge-pending-empty')).not.toBeNull();

    click(byTestId(root, 'purge-ask'));
    submit(byTestId(root, 'purge-ask-form'));
    expect(root.querySelector('#purge-ask-reason-error')?.textContent ?? byTestId(root, 'field-error-reason')?.textContent).toMatch(/at least 5/);
    expect(fakeApp.RequestAuditPurge).not.toHaveBeenCalled();

    fakeApp.ListAuditPurges = vi.fn(async () => purges({ pending: [request({ mine: true, requestedBy: 'admin' })] }));
    type(root.querySelector('#purge-ask-reason'), 'Ten years kept; copy confirmed');
    submit(byTestId(root, 'purge-ask-form'));
    await waitFor(() => byTestId(root, 'purge-flash'));
    expect(fakeApp.RequestAuditPurge).toHaveBeenCalledWith({ reason: 'Ten years kept; copy confirmed' });
    expect(byTestId(root, 'purge-flash')?.textContent).toContain('Asked to purge 1200 events');
    // One's own request cannot be approved by oneself.
    await waitFor(() => byTestId(root, 'purge-own'));
    expect(byTestId(root, 'purge-approve')).toBeNull();
  });

  it("approves another person's request after a confirmation, and shows a refusal", async () => {
    fakeApp.ListAuditPurges = vi.fn(async () => purges({ pending: [request()] }));
    fakeApp.ApproveAuditPurge = vi.fn(async () => {
      throw { code: 'E_CONFLICT', message: 'Nothing is old enough to purge: the oldest event kept is from 2016-01-10.' };
    });
    const root = render(AuditPurge, {});
    const row = await waitFor(() => byTestId(root, 'purge-request'));
    expect(row.textContent).toContain('off.ada');
    expect(byTestId(row, 'purge-reason')?.textContent).toBe('Ten years kept');
    click(byTestId(row, 'purge-approve'));
    click(await waitFor(() => byTestId(root, 'purge-confirm')));
    await waitFor(() => root.textContent?.includes('The purge was not approved.'));
    expect(fakeApp.ApproveAuditPurge).toHaveBeenCalledWith('r1');
    expect(root.textContent).toContain('Nothing is old enough to purge');

    fakeApp.ApproveAuditPurge = vi.fn(async () => ({ ...old, anchorHash: 'ab'.repeat(32) }));
    fakeApp.ListAuditPurges = vi.fn(async () =>
      purges({ purgedThrough: 1200, purgedAt: '2026-04-06T10:00:00Z', eligible: { ...old, events: 0 }, notEligible: 'Nothing is old enough to purge.' }),
    );
    click(byTestId(root, 'purge-confirm'));
    await waitFor(() => byTestId(root, 'purge-flash'));
    expect(byTestId(root, 'purge-flash')?.textContent).toContain('Purged 1200 events, No. 1 to 1200');
    expect(byTestId(root, 'purge-done')?.textContent).toContain('Events 1 to 1200 were purged');
    expect(byTestId(root, 'purge-none')?.textContent).toBe('Nothing is old enough to purge.');
    expect(byTestId(root, 'purge-ask')).toBeNull();
    expect(allByTestId(root, 'purge-request')).toHaveLength(0);
  });

  it('shows why nothing may be purged, and every value as plain text', async () => {
    const markup = '<img src=x onerror="window.__purged=1">';
    fakeApp.ListAuditPurges = vi.fn(async () =>
      purges({
        eligible: { events: 0, from: 0, through: 0, oldest: '', newest: '' },
        notEligible: 'Nothing old enough has been copied off this laptop yet.',
        pending: [request({ requestedBy: markup, reason: markup })],
      }),
    );
    const root = render(AuditPurge, {});
    await waitFor(() => byTestId(root, 'purge-none'));
    expect(byTestId(root, 'purge-none')?.textContent).toContain('copied off this laptop');
    expect(byTestId(root, 'purge-ask')).toBeNull();
    expect(root.querySelector('img')).toBeNull();
    expect(byTestId(root, 'purge-reason')?.textContent).toBe(markup);
    expect((window as unknown as { __purged?: number }).__purged).toBeUndefined();
  });
});

describe('AdminSettings: audit retention', () => {
  it('shows its bounds, checks them, and saves it with the other settings', async () => {
    const root = render(AdminSettings, { onsaved: vi.fn() });
    const form = await waitFor(() => byTestId(root, 'settings-form'));
    expect(form.textContent).toMatch(/7–75 years/);
    const input = root.querySelector<HTMLInputElement>('#settings-auditRetentionYears');
    expect(input?.value).toBe('10');
    type(input, '5');
    click(byTestId(root, 'settings-save'));
    await waitFor(() => byTestId(root, 'field-error-auditRetentionYears'));
    expect(fakeApp.SaveSettings).not.toHaveBeenCalled();
    type(input, '25');
    click(byTestId(root, 'settings-save'));
    await waitFor(() => fakeApp.SaveSettings.mock.calls.length === 1);
    expect(fakeApp.SaveSettings.mock.calls[0][0]).toMatchObject({ auditRetentionYears: 25 });
  });
});
