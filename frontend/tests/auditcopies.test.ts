import { describe, expect, it, vi } from 'vitest';
import { flushSync } from 'svelte';
import AuditCopies from '../src/components/AuditCopies.svelte';
import type { AuditShipping } from '../src/lib/api';
import { fakeApp } from './fakeGo';
import { byTestId, render, type, waitFor } from './render';

const never: AuditShipping = { acknowledgedSeq: 0, acknowledgedAt: '', checkpointAt: '', latestSeq: 40, days: 9, overdue: true };
const confirmed: AuditShipping = {
  acknowledgedSeq: 42, acknowledgedAt: '2026-11-23T10:00:00Z', checkpointAt: '2026-11-23T09:59:00Z', latestSeq: 42, days: 0, overdue: false,
};

function submit(form: Element | null) {
  (form as HTMLFormElement).requestSubmit();
  flushSync();
}

describe('AuditCopies', () => {
  it('shows the alarm, then seals a copy with a checked passphrase', async () => {
    fakeApp.GetAuditShipping = vi.fn(async () => never);
    fakeApp.SaveSealedAuditCopy = vi.fn(async () => ({ name: 'outpost-audit-2026-11-23.sealed' }));
    const root = render(AuditCopies, {});
    await waitFor(() => byTestId(root, 'copies-overdue'));
    expect(byTestId(root, 'copies-overdue')?.textContent).toContain('9 days');

    type(root.querySelector('#copies-seal-passphrase'), 'too short');
    submit(byTestId(root, 'copies-seal'));
    expect(byTestId(root, 'field-error-passphrase')?.textContent).toMatch(/at least 12/);
    type(root.querySelector('#copies-seal-passphrase'), 'river stones at dawn');
    type(root.querySelector('#copies-seal-repeat'), 'river stones at noon');
    submit(byTestId(root, 'copies-seal'));
    expect(byTestId(root, 'field-error-repeat')?.textContent).toMatch(/differ/);
    expect(fakeApp.SaveSealedAuditCopy).not.toHaveBeenCalled();

    type(root.querySelector('#copies-seal-repeat'), 'river stones at dawn');
    submit(byTestId(root, 'copies-seal'));
    await waitFor(() => byTestId(root, 'copies-sealed'));
    expect(fakeApp.SaveSealedAuditCopy).toHaveBeenCalledWith({ passphrase: 'river stones at dawn' });
    expect(byTestId(root, 'copies-sealed')?.textContent).toContain('Saved as outpost-audit-2026-11-23.sealed.');
  });

  it('confirms a copy read back, and shows a wrong passphrase beside its field', async () => {
    fakeApp.GetAuditShipping = vi.fn(async () => never);
    fakeApp.ConfirmAuditCopy = vi.fn(async () => {
      throw { code: 'E_VALIDATION', message: 'Some fields need attention.', fields: { passphrase: 'This is not a sealed audit copy, or the passphrase is wrong.' } };
    });
    const root = render(AuditCopies, {});
    await waitFor(() => byTestId(root, 'copies-overdue'));
    submit(byTestId(root, 'copies-confirm'));
    expect(byTestId(root, 'field-error-file')).not.toBeNull();
    expect(fakeApp.ConfirmAuditCopy).not.toHaveBeenCalled();

    const input = byTestId(root, 'copies-file') as HTMLInputElement;
    const file = new File([new Uint8Array([1, 2, 3])], 'copy.sealed');
    Object.defineProperty(input, 'files', { value: [file] });
    type(root.querySelector('#copies-confirm-passphrase'), 'wrong one');
    submit(byTestId(root, 'copies-confirm'));
    await waitFor(() => root.querySelector('#copies-confirm-passphrase-error') ?? byTestId(root, 'field-error-passphrase'));
    expect(fakeApp.ConfirmAuditCopy).toHaveBeenCalledWith({ data: 'AQID', passphrase: 'wrong one' });
    expect(root.textContent).toContain('passphrase is wrong');

    fakeApp.ConfirmAuditCopy = vi.fn(async () => confirmed);
    type(root.querySelector('#copies-confirm-passphrase'), 'river stones at dawn');
    submit(byTestId(root, 'copies-confirm'));
    await waitFor(() => byTestId(root, 'copies-confirmed'));
    expect(byTestId(root, 'copies-confirmed')?.textContent).toContain('up to event 42');
    expect(byTestId(root, 'copies-overdue')).toBeNull();
    expect(byTestId(root, 'copies-state')?.textContent).toContain('No. 42');
  });

  it('is the page title when it is the area alone (administrators)', async () => {
    fakeApp.GetAuditShipping = vi.fn(async () => confirmed);
    const root = render(AuditCopies, { alone: true });
    expect(root.querySelector('h1')?.textContent).toBe('Audit trail copies');
  });
});
