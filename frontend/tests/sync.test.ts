import { describe, expect, it, vi } from 'vitest';
import { flushSync } from 'svelte';
import AdminClinicServer from '../src/components/AdminClinicServer.svelte';
import Home from '../src/components/Home.svelte';
import App from '../src/App.svelte';
import Conflicts from '../src/components/Conflicts.svelte';
import JoinClinic from '../src/components/JoinClinic.svelte';
import PatientView from '../src/components/PatientView.svelte';
import Setup from '../src/components/Setup.svelte';
import SyncStatusBar from '../src/components/SyncStatusBar.svelte';
import type { ConflictItem, ConflictVersion, JoinProgress } from '../src/lib/api';
import {
  fieldLabel,
  fieldNames,
  joinPhaseText,
  lastSyncText,
  mergeFields,
  mergeRequest,
  missingChoices,
  pendingText,
  syncPollDelay,
  syncProgressText,
} from '../src/lib/sync';
import { baseStatus, fakeApp, homeStatus, makePatient, syncState, users } from './fakeGo';
import { allByTestId, byTestId, click, render, type, waitFor } from './render';

function submit(form: Element | null) {
  (form as HTMLFormElement).requestSubmit();
  flushSync();
}

function pickFile(input: HTMLElement | null, file: File) {
  if (!input) throw new Error('no file input');
  Object.defineProperty(input, 'files', { value: [file], configurable: true });
  input.dispatchEvent(new Event('change', { bubbles: true }));
  flushSync();
}

const enrolled = {
  enrolled: true,
  server: 'https://clinic-server:8443',
  fingerprint: 'AB:CD',
  deviceId: 'dev-7f3a',
  deviceName: 'Ward laptop',
  online: true,
  lastSync: '2026-11-23T10:42:00Z',
};

function head(over: Partial<ConflictVersion> & { versionId: string }): ConflictVersion {
  return { author: 'dr.sam', device: 'laptop-a', at: '2026-11-23T10:00:00Z', deleted: false, reason: '', body: '{}', fields: {}, values: {}, ...over };
}

const headA = head({
  versionId: 'v-a',
  author: 'dr.sam',
  device: 'laptop-a',
  body: JSON.stringify({ patientId: 'p1', status: 'open', complaint: 'Cough and fever', plan: 'Rest', findings: 'Warm' }),
  fields: { complaint: 'Cough and fever', plan: 'Rest', findings: 'Warm', status: 'open' },
  values: { patientId: 'p1', status: 'open', complaint: 'Cough and fever', findings: 'Warm', assessment: '', plan: 'Rest' },
});
const headB = head({
  versionId: 'v-b',
  author: 'nurse.joy',
  device: 'laptop-b',
  body: JSON.stringify({ patientId: 'p1', status: 'open', complaint: 'Cough for 3 days', plan: 'Fluids' }),
  fields: { complaint: 'Cough for 3 days', plan: 'Fluids', findings: '', status: 'open' },
  values: { patientId: 'p1', status: 'open', complaint: 'Cough for 3 days', findings: '', assessment: '', plan: 'Fluids' },
});
const conflict: ConflictItem = {
  recordId: 'r1',
  kind: 'encounter',
  patientId: 'p1',
  patientName: 'Moyo, Tendai',
  fields: ['patientId', 'status', 'complaint', 'findings', 'assessment', 'plan'],
  heads: [headA, headB],
};

describe('sync helpers', () => {
  it('asks every 2 s while syncing and every 30 s otherwise', () => {
    expect(syncPollDelay({ syncing: true })).toBe(2000);
    expect(syncPollDelay({ syncing: false })).toBe(30000);
    expect(syncPollDelay(null)).toBe(30000);
  });

  it('says what waits and what runs', () => {
    expect(pendingText(0)).toBe('No changes waiting');
    expect(pendingText(1)).toBe('1 change waiting');
    expect(pendingText(3)).toBe('3 changes waiting');
    expect(lastSyncText('')).toBe('Never synced');
    expect(lastSyncText('2026-11-23T10:42:00Z', new Date('2026-11-23T12:00:00Z'))).toMatch(/^Last sync \d\d:\d\d$/);
    expect(syncProgressText({ phase: 'pull', progressDone: 120, progressTotal: 600 })).toBe('Receiving changes: 120 of 600');
    expect(syncProgressText({ phase: 'push', progressDone: 0, progressTotal: 0 })).toBe('Sending changes…');
    expect(joinPhaseText({ phase: 'syncing', done: 5, total: 10 })).toBe("Receiving the clinic's records: 5 of 10");
    expect(joinPhaseText({ phase: 'opening', done: 0, total: 0 })).toBe('Opening the package…');
  });

  it('merges by domain field: each differing field is a choice, sent as choose with a base', () => {
    expect(fieldNames(conflict)).toEqual(['complaint', 'findings', 'plan', 'status', 'assessment']);
    const fields = mergeFields(conflict);
    expect(fields.map((f) => [f.name, f.label])).toEqual([
      ['complaint', 'Presenting complaint'],
      ['findings', 'Findings'],
      ['plan', 'Plan'],
    ]);
    expect(fields[0].options).toEqual([
      { versionId: 'v-a', value: 'Cough and fever' },
      { versionId: 'v-b', value: 'Cough for 3 days' },
    ]);
    expect(missingChoices(conflict, { complaint: 'v-b' })).toEqual(['findings', 'plan']);
    expect(missingChoices(conflict, { complaint: 'v-b', findings: 'v-x', plan: 'v-a' })).toEqual(['findings']);
    expect(mergeRequest(conflict, { complaint: 'v-b', findings: 'v-a', plan: 'v-b', status: 'v-b' }, 'Both were right')).toEqual({
      recordId: 'r1',
      heads: ['v-a', 'v-b'],
      keep: '',
      choose: { complaint: 'v-b', findings: 'v-a', plan: 'v-b' },
      base: 'v-a',
      body: '',
      reason: 'Both were right',
    });
    expect(() => mergeRequest(conflict, { complaint: 'v-b' }, 'Both were right')).toThrow();
  });

  it('labels domain fields in words', () => {
    expect(fieldLabel('complaint')).toBe('Presenting complaint');
    expect(fieldLabel('signedBy')).toBe('Signed by');
    expect(fieldLabel('phone')).toBe('Phone');
    expect(fieldLabel('kinPhone')).toBe('Next of kin: phone');
  });

  it('a deleted head is no source of a merge', () => {
    const deleted = head({ versionId: 'v-d', deleted: true, values: { ...headB.values, plan: 'Gone' } });
    const item = { ...conflict, heads: [headA, deleted, headB] };
    expect(mergeFields(item).map((f) => f.options.map((o) => o.versionId))).toEqual([
      ['v-a', 'v-b'],
      ['v-a', 'v-b'],
      ['v-a', 'v-b'],
    ]);
    expect(mergeRequest(item, { complaint: 'v-a', findings: 'v-a', plan: 'v-b' }, 'checked').base).toBe('v-a');
  });
});

describe('SyncStatusBar', () => {
  it('is quiet when the laptop is not connected; administrators get a link to connect', async () => {
    const onconnect = vi.fn();
    const root = render(SyncStatusBar, { canConnect: true, onconnect });
    await waitFor(() => byTestId(root, 'sync-not-enrolled'));
    expect(byTestId(root, 'sync-not-enrolled')!.textContent).toBe('Not connected to a clinic server');
    expect(byTestId(root, 'sync-now')).toBeNull();
    click(byTestId(root, 'sync-connect-link'));
    expect(onconnect).toHaveBeenCalledTimes(1);

    const plain = render(SyncStatusBar, { canConnect: false });
    await waitFor(() => byTestId(plain, 'sync-not-enrolled'));
    expect(byTestId(plain, 'sync-connect-link')).toBeNull();
  });

  it('shows offline, what waits and the last failure in plain words', async () => {
    fakeApp.SyncStatus = vi.fn(async () =>
      syncState({ ...enrolled, online: false, pending: 3, lastError: 'The clinic server could not be reached. Changes wait on this laptop.', lastErrorCode: 'E_OFFLINE' }),
    );
    const root = render(SyncStatusBar, {});
    await waitFor(() => byTestId(root, 'sync-online'));
    expect(byTestId(root, 'sync-status')!.dataset.online).toBe('false');
    expect(byTestId(root, 'sync-online')!.textContent).toContain('Offline');
    expect(byTestId(root, 'sync-pending')!.textContent).toBe('3 changes waiting');
    expect(byTestId(root, 'sync-last')!.textContent).toMatch(/^Last sync /);
    expect(byTestId(root, 'sync-error')!.textContent).toBe('The clinic server could not be reached. Changes wait on this laptop.');
    expect(byTestId(root, 'sync-progress')).toBeNull();
  });

  it('shows a real progress bar while syncing and asks again quickly', async () => {
    let n = 0;
    fakeApp.SyncStatus = vi.fn(async () => {
      n++;
      return n < 3
        ? syncState({ ...enrolled, syncing: true, phase: 'pull', progressDone: 120 * n, progressTotal: 600 })
        : syncState({ ...enrolled, syncing: false, lastSync: '2026-11-23T10:50:00Z' });
    });
    const root = render(SyncStatusBar, { fastMs: 10, slowMs: 60_000 });
    await waitFor(() => byTestId(root, 'sync-progress'));
    const bar = byTestId(root, 'sync-progress') as HTMLProgressElement;
    expect(bar.max).toBe(600);
    expect(bar.value).toBe(120);
    expect(byTestId(root, 'sync-progress-text')!.textContent).toBe('Receiving changes: 120 of 600');
    expect(byTestId(root, 'sync-now')).toBeNull();
    // Two more reads within a few fast periods, then it is done and back to the slow pace.
    await waitFor(() => byTestId(root, 'sync-now'));
    expect(fakeApp.SyncStatus).toHaveBeenCalledTimes(3);
    await new Promise((r) => setTimeout(r, 60));
    expect(fakeApp.SyncStatus).toHaveBeenCalledTimes(3);
  });

  it('Sync now starts a sync; the conflicts link opens the list', async () => {
    fakeApp.SyncStatus = vi.fn(async () => syncState({ ...enrolled, conflicts: 2 }));
    fakeApp.SyncNow = vi.fn(async () => syncState({ ...enrolled, conflicts: 2 }));
    const onconflicts = vi.fn();
    const root = render(SyncStatusBar, { canResolve: true, onconflicts, fastMs: 60_000 });
    await waitFor(() => byTestId(root, 'sync-conflicts'));
    expect(byTestId(root, 'sync-conflicts')!.textContent).toBe('2 conflicts');
    click(byTestId(root, 'sync-conflicts'));
    expect(onconflicts).toHaveBeenCalledTimes(1);
    click(byTestId(root, 'sync-now'));
    await waitFor(() => byTestId(root, 'sync-progress'));
    expect(fakeApp.SyncNow).toHaveBeenCalledTimes(1);
  });

  it('without chart access, counts the conflicts without a link', async () => {
    fakeApp.SyncStatus = vi.fn(async () => syncState({ ...enrolled, conflicts: 1 }));
    const root = render(SyncStatusBar, { canResolve: false });
    await waitFor(() => byTestId(root, 'sync-conflicts-count'));
    expect(byTestId(root, 'sync-conflicts')).toBeNull();
    expect(byTestId(root, 'sync-conflicts-count')!.textContent).toContain('1 conflict');
  });
});

describe('Home and the status bar', () => {
  const homeProps = { loginInfo: null, ondismissbanner: () => {}, onlogout: () => {}, onlock: () => {}, onpasswordchanged: () => {}, onsetupmfa: () => {} };

  it('shows the status bar; its conflicts link opens the Conflicts area, listed while there are any', async () => {
    fakeApp.SyncStatus = vi.fn(async () => syncState({ ...enrolled, conflicts: 1 }));
    fakeApp.ListConflicts = vi.fn(async () => [conflict]);
    const root = render(Home, { ...homeProps, status: homeStatus(users.clinician) });
    await waitFor(() => byTestId(root, 'sync-conflicts'));
    expect(byTestId(root, 'nav-conflicts')).not.toBeNull();
    click(byTestId(root, 'sync-conflicts'));
    await waitFor(() => byTestId(root, 'conflicts-area'));
    await waitFor(() => byTestId(root, 'conflict'));
  });

  it('an administrator goes from "Not connected" to Administration → Clinic server', async () => {
    const root = render(Home, { ...homeProps, status: homeStatus(users.admin) });
    click(await waitFor(() => byTestId(root, 'sync-connect-link')));
    await waitFor(() => byTestId(root, 'connect-form'));
    expect(byTestId(root, 'admin-tab-server')!.getAttribute('aria-selected')).toBe('true');
    expect(byTestId(root, 'nav-conflicts')).toBeNull();
  });
});

describe('Conflicts', () => {
  it('shows the heads side by side with the differing fields marked', async () => {
    fakeApp.ListConflicts = vi.fn(async () => [conflict]);
    const root = render(Conflicts, { alone: true });
    await waitFor(() => byTestId(root, 'conflict'));
    expect(fakeApp.ListConflicts).toHaveBeenCalledWith('');
    expect(allByTestId(root, 'conflict-head')).toHaveLength(2);
    const rows = allByTestId(root, 'conflict-row');
    const differs = Object.fromEntries(rows.map((r) => [r.dataset.field, r.dataset.differs]));
    expect(differs).toEqual({ complaint: 'true', plan: 'true', findings: 'true', status: 'false', assessment: 'false' });
    // The differing fields come first, in the kind's order; the patient is named above, not a row.
    expect(rows.map((r) => r.dataset.field)).toEqual(['complaint', 'findings', 'plan', 'status', 'assessment']);
    expect(rows[0].querySelector('th')!.textContent).toContain('Presenting complaint');
    expect(byTestId(root, 'conflict-patient')!.textContent).toBe('Moyo, Tendai');
  });

  it('keeps one head, but only with a reason', async () => {
    fakeApp.ListConflicts = vi.fn(async () => [conflict]);
    fakeApp.ResolveConflict = vi.fn(async () => undefined);
    const root = render(Conflicts, { alone: true });
    await waitFor(() => byTestId(root, 'conflict'));
    click(allByTestId(root, 'conflict-keep')[1]);
    const form = await waitFor(() => byTestId(root, 'conflict-r1-keep-form-form'));
    submit(form);
    await waitFor(() => byTestId(root, 'field-error-reason'));
    expect(fakeApp.ResolveConflict).not.toHaveBeenCalled();

    fakeApp.ListConflicts = vi.fn(async () => []);
    type(root.querySelector('#conflict-r1-keep-form-reason'), 'Nurse Joy saw the patient last');
    submit(form);
    await waitFor(() => byTestId(root, 'conflicts-none'));
    expect(fakeApp.ResolveConflict).toHaveBeenCalledWith({
      recordId: 'r1',
      heads: ['v-a', 'v-b'],
      keep: 'v-b',
      choose: {},
      base: '',
      body: '',
      reason: 'Nurse Joy saw the patient last',
    });
    expect(byTestId(root, 'conflicts-notice')!.textContent).toContain('version B kept');
  });

  it('merges field by field into the ResolveRequest, with a choice for each and a reason', async () => {
    fakeApp.ListConflicts = vi.fn(async () => [conflict]);
    fakeApp.ResolveConflict = vi.fn(async () => undefined);
    const root = render(Conflicts, { alone: true });
    await waitFor(() => byTestId(root, 'conflict-merge'));
    click(byTestId(root, 'conflict-merge'));
    const form = await waitFor(() => byTestId(root, 'conflict-r1-merge-form'));
    expect(allByTestId(form, 'merge-member').map((m) => m.dataset.member)).toEqual(['complaint', 'findings', 'plan']);

    submit(form);
    await waitFor(() => allByTestId(form, 'field-error-member').length === 3);
    expect(byTestId(form, 'field-error-reason')).not.toBeNull();
    expect(fakeApp.ResolveConflict).not.toHaveBeenCalled();

    const choose = (member: string, versionId: string) =>
      click(form.querySelector(`[data-member="${member}"] input[data-version-id="${versionId}"]`));
    choose('complaint', 'v-b');
    choose('plan', 'v-a');
    choose('findings', 'v-a');
    submit(form);
    await waitFor(() => byTestId(form, 'field-error-reason'));
    expect(fakeApp.ResolveConflict).not.toHaveBeenCalled();

    fakeApp.ListConflicts = vi.fn(async () => []);
    type(form.querySelector('#conflict-r1-merge-reason'), 'Both complaints were true');
    submit(form);
    await waitFor(() => byTestId(root, 'conflicts-none'));
    expect(fakeApp.ResolveConflict).toHaveBeenCalledWith({
      recordId: 'r1',
      heads: ['v-a', 'v-b'],
      keep: '',
      choose: { complaint: 'v-b', findings: 'v-a', plan: 'v-a' },
      base: 'v-a',
      body: '',
      reason: 'Both complaints were true',
    });
  });

  it('shows a deleted head as deleted, with who and why, and offers no merge', async () => {
    const deleted = head({ versionId: 'v-d', author: 'dr.lee', deleted: true, reason: 'Entered on the wrong patient', body: '', fields: {}, values: {} });
    fakeApp.ListConflicts = vi.fn(async () => [{ ...conflict, heads: [headA, deleted] }]);
    const root = render(Conflicts, { patientId: 'p1' });
    await waitFor(() => byTestId(root, 'conflict'));
    expect(fakeApp.ListConflicts).toHaveBeenCalledWith('p1');
    expect(byTestId(root, 'conflict-deleted')!.textContent).toBe('Deleted by dr.lee: Entered on the wrong patient');
    expect(byTestId(root, 'conflict-merge')).toBeNull();
    expect(allByTestId(root, 'conflict-keep')[1].getAttribute('aria-label')).toBe('Keep version B (deleted)');
  });

  it('refused because the heads changed: shows the message and reads them again', async () => {
    fakeApp.ListConflicts = vi.fn(async () => [conflict]);
    fakeApp.ResolveConflict = vi.fn(async () => {
      throw { code: 'E_CONFLICT', message: 'This record changed since you looked at it. Look at it again.' };
    });
    const root = render(Conflicts, { alone: true });
    await waitFor(() => byTestId(root, 'conflict'));
    click(allByTestId(root, 'conflict-keep')[0]);
    const form = await waitFor(() => byTestId(root, 'conflict-r1-keep-form-form'));
    type(root.querySelector('#conflict-r1-keep-form-reason'), 'Dr Sam saw the patient');
    submit(form);
    await waitFor(() => byTestId(root, 'conflicts-stale'));
    expect(byTestId(root, 'conflicts-stale')!.textContent).toContain('changed since you looked at it');
    expect(fakeApp.ListConflicts).toHaveBeenCalledTimes(2);
    expect(byTestId(root, 'conflict-r1-keep-form-form')).toBeNull();
  });

  it('shows markup in a conflict as text', async () => {
    const evil = '<img src=x onerror="window.__pwned=1">';
    const h = (id: string, v: string) => head({ versionId: id, author: evil, reason: evil, body: JSON.stringify({ complaint: v }), fields: { complaint: v }, values: { complaint: v } });
    fakeApp.ListConflicts = vi.fn(async () => [{ ...conflict, patientName: evil, heads: [h('v-a', evil), h('v-b', 'x')] }]);
    const root = render(Conflicts, { alone: true });
    await waitFor(() => byTestId(root, 'conflict'));
    click(byTestId(root, 'conflict-merge'));
    await waitFor(() => byTestId(root, 'merge-member'));
    expect(root.querySelector('img')).toBeNull();
    expect(byTestId(root, 'conflict-patient')!.textContent).toBe(evil);
    expect(byTestId(root, 'merge-member')!.textContent).toContain(evil);
  });

  it('the chart shows a banner when its patient has conflicts', async () => {
    fakeApp.ListConflicts = vi.fn(async () => [conflict]);
    const root = render(PatientView, { id: 'p1', initial: makePatient(), canChartRead: true, onedit: () => {}, onback: () => {} });
    await waitFor(() => byTestId(root, 'patient-conflicts-banner'));
    expect(fakeApp.ListConflicts).toHaveBeenCalledWith('p1');
    expect(byTestId(root, 'patient-conflicts-banner')!.textContent).toContain('One record of this chart was changed on two laptops');
    click(byTestId(root, 'patient-conflicts-toggle'));
    await waitFor(() => byTestId(root, 'conflict'));

    fakeApp.ListConflicts = vi.fn(async () => []);
    const none = render(PatientView, { id: 'p1', initial: makePatient(), canChartRead: true, onedit: () => {}, onback: () => {} });
    await waitFor(() => fakeApp.ListConflicts.mock.calls.length > 0);
    expect(byTestId(none, 'patient-conflicts-banner')).toBeNull();
  });
});

describe('Administration → Clinic server', () => {
  it('connects with field errors from the backend beside their fields', async () => {
    fakeApp.ConnectServer = vi.fn(async () => {
      throw {
        code: 'E_VALIDATION',
        message: 'Some fields need attention.',
        fields: { fingerprint: 'The fingerprint is 32 pairs of hex digits separated by colons.', token: 'This token was used or has expired.' },
      };
    });
    const root = render(AdminClinicServer, {});
    const form = await waitFor(() => byTestId(root, 'connect-form'));
    submit(form);
    await waitFor(() => byTestId(root, 'field-error-server'));
    expect(byTestId(root, 'field-error-deviceName')).not.toBeNull();
    expect(fakeApp.ConnectServer).not.toHaveBeenCalled();

    type(root.querySelector('#server-server'), ' https://clinic-server:8443 ');
    type(root.querySelector('#server-fingerprint'), 'AB:CD');
    type(root.querySelector('#server-token'), 'tok-1');
    type(root.querySelector('#server-deviceName'), 'Ward laptop');
    submit(form);
    await waitFor(() => byTestId(root, 'field-error-fingerprint'));
    expect(fakeApp.ConnectServer).toHaveBeenCalledWith({ server: 'https://clinic-server:8443', fingerprint: 'AB:CD', token: 'tok-1', deviceName: 'Ward laptop' });
    expect(byTestId(root, 'field-error-fingerprint')!.textContent).toContain('32 pairs');
    expect(byTestId(root, 'field-error-token')!.textContent).toContain('used or has expired');
    expect(byTestId(root, 'field-error-server')).toBeNull();
    expect(document.activeElement?.id).toBe('server-fingerprint');

    fakeApp.ConnectServer = vi.fn(async () => syncState({ ...enrolled, lastSync: '' }));
    submit(form);
    await waitFor(() => byTestId(root, 'server-connected'));
    expect(byTestId(root, 'server-address')!.textContent).toBe('https://clinic-server:8443');
    expect(byTestId(root, 'server-device-id')!.textContent).toBe('dev-7f3a');
  });

  it('makes a package for a new laptop and shows its code once', async () => {
    fakeApp.SyncStatus = vi.fn(async () => syncState({ ...enrolled, auditShippedAt: '2026-11-23T10:42:00Z' }));
    fakeApp.CreateEnrollmentPackage = vi.fn(async () => ({ code: '7K2QM-9XW4T-B3N8R-HV6JD', saved: { name: 'outreach-2.outpost-join' } }));
    const root = render(AdminClinicServer, {});
    await waitFor(() => byTestId(root, 'add-laptop'));
    expect(byTestId(root, 'server-audit-shipped')!.textContent).not.toBe('Not yet');
    click(byTestId(root, 'add-laptop'));
    const form = await waitFor(() => byTestId(root, 'package-form'));
    submit(form);
    await waitFor(() => byTestId(root, 'field-error-laptopName'));
    expect(fakeApp.CreateEnrollmentPackage).not.toHaveBeenCalled();

    type(root.querySelector('#package-token'), 'tok-2');
    type(root.querySelector('#package-laptopName'), 'Outreach 2');
    submit(form);
    await waitFor(() => byTestId(root, 'package-code'));
    expect(fakeApp.CreateEnrollmentPackage).toHaveBeenCalledWith({ token: 'tok-2', laptopName: 'Outreach 2' });
    expect(byTestId(root, 'package-code')!.textContent).toBe('7K2QM-9XW4T-B3N8R-HV6JD');
    expect(byTestId(root, 'package-file')!.textContent).toBe('outreach-2.outpost-join');
    expect(byTestId(root, 'package-made')!.textContent).toMatch(/separately/);

    click(byTestId(root, 'package-done'));
    expect(byTestId(root, 'package-code')).toBeNull();
    expect(root.textContent).not.toContain('7K2QM');
    // Adding another laptop starts afresh: the old code never comes back.
    click(byTestId(root, 'add-laptop'));
    await waitFor(() => byTestId(root, 'package-form'));
    expect(root.textContent).not.toContain('7K2QM');
  });

  it('shows no code when the save dialog was cancelled', async () => {
    fakeApp.SyncStatus = vi.fn(async () => syncState(enrolled));
    fakeApp.CreateEnrollmentPackage = vi.fn(async () => ({ code: '7K2QM-9XW4T-B3N8R-HV6JD', saved: { name: '' } }));
    const root = render(AdminClinicServer, {});
    click(await waitFor(() => byTestId(root, 'add-laptop')));
    type(root.querySelector('#package-token'), 'tok-2');
    type(root.querySelector('#package-laptopName'), 'Outreach 2');
    submit(byTestId(root, 'package-form'));
    await waitFor(() => byTestId(root, 'package-not-saved'));
    expect(root.textContent).not.toContain('7K2QM');
  });
});

describe('Join a clinic', () => {
  const pkg = new File([new Uint8Array([1, 2, 3])], 'hill.outpost-join');

  function fillJoin(root: HTMLElement) {
    pickFile(byTestId(root, 'join-file'), pkg);
    type(root.querySelector('#join-code'), ' 7k2qm9xw4tb3n8rhv6jd ');
    type(root.querySelector('#join-deviceName'), 'Outreach 2');
  }

  it('is offered next to setting up a new clinic, and runs to the recovery key and sign-in', async () => {
    const phase = (p: Partial<JoinProgress>): JoinProgress => ({ phase: 'enrolling', done: 0, total: 0, clinic: 'Hill Clinic', recoveryKey: '', ...p });
    let now = phase({});
    fakeApp.JoinClinic = vi.fn(async () => phase({ phase: 'opening', clinic: '' }));
    fakeApp.JoinStatus = vi.fn(async () => now);
    const ondone = vi.fn();
    const root = render(Setup, { status: { ...baseStatus, screen: 'setup' }, ondone, joinPollMs: 10 });
    expect(byTestId(root, 'setup-form')).not.toBeNull();
    click(byTestId(root, 'setup-mode-join'));
    const form = await waitFor(() => byTestId(root, 'join-form'));
    submit(form);
    await waitFor(() => byTestId(root, 'field-error-package'));
    expect(byTestId(root, 'field-error-code')).not.toBeNull();
    expect(fakeApp.JoinClinic).not.toHaveBeenCalled();

    fillJoin(root);
    submit(form);
    await waitFor(() => byTestId(root, 'join-progress'));
    expect(fakeApp.JoinClinic).toHaveBeenCalledWith({ package: 'AQID', code: '7k2qm9xw4tb3n8rhv6jd', deviceName: 'Outreach 2', keyStore: 'keyring', passphrase: '' });
    // The choice of new or join is gone once the join runs.
    expect(byTestId(root, 'setup-mode-new')).toBeNull();
    await waitFor(() => byTestId(root, 'join-phase')?.dataset.phase === 'enrolling');
    expect(byTestId(root, 'join-phase')!.textContent).toBe('Registering this laptop with the clinic server…');
    now = phase({ phase: 'syncing', done: 40, total: 100 });
    const bar = await waitFor(() => root.querySelector<HTMLProgressElement>('[data-testid="join-bar"][max="100"]'));
    expect(bar.value).toBe(40);
    expect(byTestId(root, 'join-phase')!.textContent).toBe("Receiving the clinic's records: 40 of 100");
    expect(byTestId(root, 'join-progress')!.textContent).toContain('Joining Hill Clinic');

    now = phase({ phase: 'done', done: 100, total: 100, recoveryKey: 'AAAA-BBBB-CCCC' });
    await waitFor(() => byTestId(root, 'recovery-key'));
    expect(byTestId(root, 'recovery-key')!.textContent).toBe('AAAA-BBBB-CCCC');
    click(byTestId(root, 'recovery-continue'));
    expect(ondone).not.toHaveBeenCalled();
    click(byTestId(root, 'recovery-confirm'));
    click(byTestId(root, 'recovery-continue'));
    expect(ondone).toHaveBeenCalledTimes(1);
  });

  it('a failure shows its message and lets the user try again', async () => {
    fakeApp.JoinClinic = vi.fn(async () => ({ phase: 'enrolling', done: 0, total: 0, clinic: 'Hill Clinic', recoveryKey: '' }));
    fakeApp.JoinStatus = vi.fn(async () => ({
      phase: 'failed', done: 0, total: 0, clinic: 'Hill Clinic', recoveryKey: '',
      problem: { code: 'E_SYNC', message: 'The clinic server refused the token: it was used already.' },
    }));
    const root = render(JoinClinic, { status: { ...baseStatus, screen: 'setup' }, ondone: () => {}, pollMs: 5 });
    fillJoin(root);
    submit(byTestId(root, 'join-form'));
    await waitFor(() => byTestId(root, 'join-problem'));
    expect(byTestId(root, 'join-problem')!.textContent).toContain('refused the token');
    expect((root.querySelector('#join-deviceName') as HTMLInputElement).value).toBe('Outreach 2');

    // A wrong code comes back as a field error, from JoinClinic itself.
    fakeApp.JoinClinic = vi.fn(async () => {
      throw { code: 'E_VALIDATION', message: 'Some fields need attention.', fields: { code: 'This code does not open the package.' } };
    });
    submit(byTestId(root, 'join-form'));
    await waitFor(() => byTestId(root, 'field-error-code'));
    expect(byTestId(root, 'field-error-code')!.textContent).toBe('This code does not open the package.');
    expect(fakeApp.JoinClinic).toHaveBeenCalledTimes(1);
  });

  it('asks for a passphrase when the key file is chosen', async () => {
    const root = render(JoinClinic, { status: { ...baseStatus, screen: 'setup', keyringAvailable: false }, ondone: () => {} });
    fillJoin(root);
    expect((byTestId(root, 'keystore-passphrase') as HTMLInputElement).checked).toBe(true);
    submit(byTestId(root, 'join-form'));
    await waitFor(() => byTestId(root, 'field-error-passphrase'));
    expect(fakeApp.JoinClinic).toBeUndefined();
  });
});

describe('App and the status bar', () => {
  it('shows it on the other signed-in screens too (locked), and drops it at sign-out', async () => {
    fakeApp.Status.mockResolvedValue({ ...baseStatus, screen: 'locked', user: users.nurse });
    fakeApp.SyncStatus = vi.fn(async () => syncState({ ...enrolled, pending: 2 }));
    const root = render(App, {});
    await waitFor(() => byTestId(root, 'lock-screen'));
    await waitFor(() => byTestId(root, 'sync-pending'));
    expect(byTestId(root, 'sync-pending')!.textContent).toBe('2 changes waiting');

    fakeApp.Status.mockResolvedValue({ ...baseStatus, screen: 'login' });
    click(byTestId(root, 'lock-signout'));
    await waitFor(() => byTestId(root, 'login-form'));
    expect(byTestId(root, 'sync-status')).toBeNull();
  });
});

describe('Erased', () => {
  it('is a full page with the message and nothing else', async () => {
    fakeApp.Status.mockResolvedValue({
      ...baseStatus,
      screen: 'erased',
      problem: { code: 'E_ERASED', message: 'The clinic removed this laptop; its records were erased. Ask your administrator.' },
    });
    const root = render(App, {});
    await waitFor(() => byTestId(root, 'erased'));
    expect(byTestId(root, 'erased-message')!.textContent!.trim()).toBe('The clinic removed this laptop; its records were erased. Ask your administrator.');
    expect(root.querySelectorAll('button, input, a')).toHaveLength(0);
  });
});
