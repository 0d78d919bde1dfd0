import { describe, expect, it, vi } from 'vitest';
import { flushSync, mount, unmount } from 'svelte';
import Deletions from '../src/components/Deletions.svelte';
import RecordTools from '../src/components/RecordTools.svelte';
import type { RecordDeletion, RecordVersion, User } from '../src/lib/api';
import { permissionContext } from '../src/lib/permissions';
import { fakeApp, users } from './fakeGo';
import { allByTestId, byTestId, click, render, type, waitFor } from './render';

const XSS = '<img src=x onerror=alert(1)>';

const clinician: User = { ...users.clinician, permissions: [...users.clinician.permissions, 'record.delete'] };

/** Mounts RecordTools as the chart does, under Home's permissions. */
function tools(user: User | null, recordId = 'rec-1') {
  const target = document.createElement('div');
  document.body.appendChild(target);
  const c = mount(RecordTools, { target, props: { recordId, label: 'Problem Asthma' }, context: permissionContext(() => user) });
  flushSync();
  return { target, destroy: () => unmount(c) };
}

function request(over: Partial<RecordDeletion> = {}): RecordDeletion {
  return {
    id: 'req-1',
    recordId: 'rec-1',
    kind: 'condition',
    label: 'Problem: Asthma',
    patientId: 'pat-1',
    patient: 'BANDA, Grace (AYE-00001)',
    requestedBy: 'dr.sam',
    reason: 'Entered on the wrong chart',
    at: '2026-11-23T10:00:00Z',
    ...over,
  };
}

describe('RecordTools', () => {
  it('shows the history of a record, every version with its author, reason and changes', async () => {
    const versions: RecordVersion[] = [
      { versionId: 'v2', kind: 'condition', at: '2026-11-23T11:00:00Z', author: 'nurse.joy', device: 'pc-2', reason: XSS, deleted: false, changes: [{ field: 'status', label: 'Status', old: 'active', new: 'inactive' }] },
      { versionId: 'v1', kind: 'condition', at: '2026-11-23T10:00:00Z', author: 'dr.sam', device: 'pc-1', reason: '', deleted: false, changes: [{ field: 'code.text', label: 'Code text', old: '', new: 'Asthma' }] },
    ];
    fakeApp.RecordHistory = vi.fn(async () => versions);
    const { target } = tools(clinician);
    click(byTestId(target, 'record-history-button'));
    await waitFor(() => allByTestId(target, 'history-version').length === 2);
    expect(fakeApp.RecordHistory).toHaveBeenCalledWith('rec-1');
    expect(allByTestId(target, 'history-author').map((e) => e.textContent)).toEqual(['nurse.joy', 'dr.sam']);
    expect(byTestId(target, 'history-reason')?.textContent).toBe(XSS);
    expect(target.querySelector('img')).toBeNull();
    expect(target.textContent).toContain('created');
  });

  it('asks why before requesting a deletion, then says a second person must approve', async () => {
    fakeApp.RequestRecordDeletion = vi.fn(async () => request());
    const { target } = tools(clinician);
    click(byTestId(target, 'record-delete-button'));
    click(byTestId(target, 'rec-rec-1-delete-submit'));
    await waitFor(() => byTestId(target, 'field-error-reason'));
    expect(byTestId(target, 'field-error-reason')?.textContent).toMatch(/at least 5 characters/);
    expect(fakeApp.RequestRecordDeletion).not.toHaveBeenCalled();
    type(target.querySelector('textarea'), '  Entered on the wrong chart ');
    click(byTestId(target, 'rec-rec-1-delete-submit'));
    await waitFor(() => byTestId(target, 'record-delete-requested'));
    expect(fakeApp.RequestRecordDeletion).toHaveBeenCalledWith({ id: 'rec-1', reason: 'Entered on the wrong chart' });
    expect(byTestId(target, 'record-delete-button')).toBeNull();
  });

  it('keeps the form and the reason when the backend refuses', async () => {
    fakeApp.RequestRecordDeletion = vi.fn(async () => {
      throw { code: 'E_CONFLICT', message: 'A deletion of this record is already waiting for approval.', incident: 'AB12-CD34' };
    });
    const { target } = tools(clinician);
    click(byTestId(target, 'record-delete-button'));
    type(target.querySelector('textarea'), 'Duplicate entry');
    click(byTestId(target, 'rec-rec-1-delete-submit'));
    await waitFor(() => target.textContent?.includes('already waiting'));
    expect(target.textContent).toContain('AB12-CD34');
    expect((target.querySelector('textarea') as HTMLTextAreaElement).value).toBe('Duplicate entry');
    expect(byTestId(target, 'record-delete-requested')).toBeNull();
  });

  it('offers no Delete without the record.delete permission', () => {
    expect(byTestId(tools(users.clinician).target, 'record-delete-button')).toBeNull();
    expect(byTestId(tools(null).target, 'record-delete-button')).toBeNull();
    expect(byTestId(tools(clinician).target, 'record-delete-button')).not.toBeNull();
  });
});

describe('Deletions', () => {
  it("lists requests; one's own cannot be approved; another's is approved after a confirmation", async () => {
    fakeApp.ListRecordDeletions = vi.fn(async () => [request(), request({ id: 'req-2', recordId: 'rec-2', requestedBy: 'nurse.joy', label: `Note: ${XSS}` })]);
    fakeApp.ListDeletedRecords = vi.fn(async () => []);
    fakeApp.ApproveRecordDeletion = vi.fn(async () => undefined);
    const target = render(Deletions, { currentUsername: 'dr.sam' });
    await waitFor(() => allByTestId(target, 'record-deletion-request').length === 2);
    const [own, other] = allByTestId(target, 'record-deletion-request');
    expect(byTestId(own, 'record-deletion-own')).not.toBeNull();
    expect(byTestId(own, 'record-deletion-approve')).toBeNull();
    expect(byTestId(other, 'record-deletion-label')?.textContent).toBe(`Note: ${XSS}`);
    expect(target.querySelector('img')).toBeNull();
    click(byTestId(other, 'record-deletion-approve'));
    expect(fakeApp.ApproveRecordDeletion).not.toHaveBeenCalled();
    fakeApp.ListRecordDeletions = vi.fn(async () => [request()]);
    click(byTestId(other, 'record-deletion-confirm'));
    await waitFor(() => byTestId(target, 'record-deletions-flash'));
    expect(fakeApp.ApproveRecordDeletion).toHaveBeenCalledWith('req-2');
    expect(allByTestId(target, 'record-deletion-request')).toHaveLength(1);
  });

  it('restores a deleted record with a reason', async () => {
    fakeApp.ListRecordDeletions = vi.fn(async () => []);
    fakeApp.ListDeletedRecords = vi.fn(async () => [request({ approvedBy: 'nurse.joy', approvedAt: '2026-11-23T12:00:00Z' })]);
    fakeApp.RestoreRecord = vi.fn(async () => undefined);
    const target = render(Deletions, { currentUsername: 'dr.sam' });
    await waitFor(() => byTestId(target, 'deleted-record'));
    expect(byTestId(target, 'deleted-record')?.textContent).toContain('approved by nurse.joy');
    click(byTestId(target, 'deleted-record-restore'));
    type(target.querySelector('textarea'), 'It was the right chart');
    fakeApp.ListDeletedRecords = vi.fn(async () => []);
    click(byTestId(target, 'restore-req-1-submit'));
    await waitFor(() => byTestId(target, 'deleted-records-empty'));
    expect(fakeApp.RestoreRecord).toHaveBeenCalledWith({ id: 'rec-1', reason: 'It was the right chart' });
    expect(byTestId(target, 'record-deletions-flash')?.textContent).toContain('Restored: Problem: Asthma.');
  });

  it('shows a problem when the lists cannot be read', async () => {
    fakeApp.ListRecordDeletions = vi.fn(async () => {
      throw { code: 'E_FORBIDDEN', message: 'Your role does not allow this.', incident: 'ZZ99-YY88' };
    });
    fakeApp.ListDeletedRecords = vi.fn(async () => []);
    const target = render(Deletions, { currentUsername: 'dr.sam' });
    await waitFor(() => target.textContent?.includes('ZZ99-YY88'));
    expect(target.textContent).toContain('Your role does not allow this.');
  });
});
