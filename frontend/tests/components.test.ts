import { afterEach, describe, expect, it } from 'vitest';
import { flushSync, mount, unmount } from 'svelte';
import App from '../src/App.svelte';
import HistoryList from '../src/components/HistoryList.svelte';
import Login from '../src/components/Login.svelte';
import PatientForm from '../src/components/PatientForm.svelte';
import SearchResults from '../src/components/SearchResults.svelte';
import type { PatientHit, Version } from '../src/lib/api';
import { baseStatus, fakeApp } from './fakeGo';

const XSS = '<img src=x onerror=alert(1)>';
let mounted: Record<string, unknown>[] = [];

function render<P extends Record<string, unknown>>(component: any, props: P) {
  const target = document.createElement('div');
  document.body.appendChild(target);
  const instance = mount(component, { target, props });
  mounted.push(instance);
  flushSync();
  return target;
}

afterEach(() => {
  for (const m of mounted) unmount(m);
  mounted = [];
});

async function waitFor<T>(fn: () => T | null | undefined | false, ms = 2000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    flushSync();
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('waitFor timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function type(el: Element | null, value: string) {
  const input = el as HTMLInputElement;
  input.value = value;
  input.dispatchEvent(new Event('input', { bubbles: true }));
  flushSync();
}

const byTestId = (root: ParentNode, id: string) => root.querySelector(`[data-testid="${id}"]`);

describe('SearchResults', () => {
  const hit: PatientHit = {
    id: 'p1',
    clinicNo: 'OP-00001',
    family: XSS,
    given: '"><script>alert(2)</script>',
    other: '',
    sex: 'female',
    birthDate: '1982',
    birthEstimated: true,
    age: '44 y',
    village: '<b>Lowland</b>',
    match: 'phonetic',
    restricted: false,
  };

  it('shows names as literal text, never as markup', () => {
    const root = render(SearchResults, { hits: [hit], activeIndex: 0, onopen: () => {} });
    const row = byTestId(root, 'search-result')!;
    expect(row.querySelector('img')).toBeNull();
    expect(row.querySelector('script')).toBeNull();
    expect(row.querySelector('b')).toBeNull();
    expect(byTestId(row, 'hit-name')!.textContent!.trim()).toBe(`${XSS.toUpperCase()}, "><script>alert(2)</script>`);
    expect(row.textContent).toContain('<b>Lowland</b>');
  });

  it('marks estimated ages and birth years with ~', () => {
    const root = render(SearchResults, { hits: [hit], activeIndex: 0, onopen: () => {} });
    expect(byTestId(root, 'hit-age')!.textContent).toBe('~44 y · ~1982');
  });

  it('opens a patient on click', () => {
    const opened: string[] = [];
    const root = render(SearchResults, { hits: [hit], activeIndex: 0, onopen: (h: PatientHit) => opened.push(h.id) });
    (byTestId(root, 'hit-name') as HTMLButtonElement).click();
    expect(opened).toEqual(['p1']);
  });
});

describe('HistoryList', () => {
  const patient = {} as Version['patient'];
  const versions: Version[] = [
    {
      versionId: 'v2',
      at: '2026-11-23T14:03:00Z',
      author: 'admin',
      device: 'LAPTOP-1',
      reason: 'moved',
      changes: [{ field: 'village', label: 'Village', old: 'Lowland', new: 'Upland' }],
      patient,
    },
    {
      versionId: 'v1',
      at: '2026-11-22T09:00:00Z',
      author: 'admin',
      device: 'LAPTOP-1',
      reason: '',
      changes: [
        { field: 'family', label: 'Family name', old: '', new: 'Schmidt' },
        { field: 'address', label: 'Address', old: '', new: XSS },
      ],
      patient,
    },
  ];

  it('lists versions newest first with a readable diff', () => {
    const root = render(HistoryList, { versions });
    const items = root.querySelectorAll('[data-testid="history-version"]');
    expect(items).toHaveLength(2);
    expect(items[0].textContent).toContain('Version 2');
    expect(byTestId(items[0], 'diff-change')!.textContent!.replace(/\s+/g, ' ').trim()).toBe('Lowland → Upland');
    expect(byTestId(items[0], 'history-reason')!.textContent).toBe('moved');
    expect(items[1].textContent).toContain(XSS);
    expect(root.querySelector('img')).toBeNull();
  });
});

describe('PatientForm', () => {
  it('keeps everything typed and shows field errors when the backend rejects it', async () => {
    fakeApp.RegisterPatient.mockRejectedValueOnce(
      JSON.stringify({
        code: 'E_VALIDATION',
        message: 'Some fields need attention.',
        incident: 'INC-7',
        fields: { birthDate: 'Use the form YYYY-MM-DD.', given: 'Enter the given name.' },
      }),
    );
    const root = render(PatientForm, { onsaved: () => {}, oncancel: () => {} });
    type(root.querySelector('#patient-family'), 'Schmidt');
    type(root.querySelector('#patient-birthDate'), '17/04/1982');
    type(root.querySelector('#patient-address'), XSS);
    (byTestId(root, 'patient-save') as HTMLButtonElement).click();

    const err = await waitFor(() => byTestId(root, 'field-error-birthDate'));
    expect(err.textContent).toBe('Use the form YYYY-MM-DD.');
    expect(byTestId(root, 'field-error-given')!.textContent).toBe('Enter the given name.');
    expect(byTestId(root, 'problem-incident')!.textContent).toBe('INC-7');
    expect((root.querySelector('#patient-family') as HTMLInputElement).value).toBe('Schmidt');
    expect((root.querySelector('#patient-birthDate') as HTMLInputElement).value).toBe('17/04/1982');
    expect((root.querySelector('#patient-address') as HTMLTextAreaElement).value).toBe(XSS);
    expect(root.querySelector('#patient-birthDate')!.getAttribute('aria-invalid')).toBe('true');
    expect(fakeApp.RegisterPatient).toHaveBeenCalledWith(
      expect.objectContaining({ family: 'Schmidt', birthDate: '17/04/1982', ageYears: '', address: XSS }),
    );
  });

  it('requires a reason when editing', async () => {
    const patient = {
      id: 'p1', versionId: 'v1', clinicNo: 'OP-1', family: 'Schmidt', given: 'Catherine', other: '', sex: 'female',
      birthDate: '1982-04-17', birthEstimated: false, age: '44 y', nationalId: '', phone: '', village: 'Lowland',
      address: '', kinName: '', kinRelation: '', kinPhone: '', updatedAt: '', updatedBy: '', restricted: false,
    };
    const root = render(PatientForm, { patient, onsaved: () => {}, oncancel: () => {} });
    type(root.querySelector('#patient-village'), 'Upland');
    (byTestId(root, 'patient-save') as HTMLButtonElement).click();
    await waitFor(() => byTestId(root, 'field-error-reason'));
    expect(fakeApp.UpdatePatient).not.toHaveBeenCalled();

    fakeApp.UpdatePatient.mockResolvedValueOnce({ ...patient, village: 'Upland', versionId: 'v2' });
    type(root.querySelector('#patient-reason'), 'moved');
    (byTestId(root, 'patient-save') as HTMLButtonElement).click();
    await waitFor(() => fakeApp.UpdatePatient.mock.calls.length > 0);
    expect(fakeApp.UpdatePatient).toHaveBeenCalledWith({
      id: 'p1',
      baseVersionId: 'v1',
      reason: 'moved',
      patient: expect.objectContaining({ village: 'Upland', birthDate: '1982-04-17', ageYears: '' }),
    });
  });

  it('records a death with its date when editing (not offered when registering)', async () => {
    expect(byTestId(render(PatientForm, { onsaved: () => {}, oncancel: () => {} }), 'patient-deceased')).toBeNull();
    const patient = {
      id: 'p1', versionId: 'v1', clinicNo: 'OP-1', family: 'Schmidt', given: 'Catherine', other: '', sex: 'female',
      birthDate: '1982-04-17', birthEstimated: false, age: '44 y', nationalId: '', phone: '', village: 'Lowland',
      address: '', kinName: '', kinRelation: '', kinPhone: '', updatedAt: '', updatedBy: '', restricted: false,
    };
    const root = render(PatientForm, { patient, onsaved: () => {}, oncancel: () => {} });
    expect(root.querySelector('#patient-deceasedDate')).toBeNull();
    (byTestId(root, 'patient-deceased') as HTMLInputElement).click();
    await waitFor(() => root.querySelector('#patient-deceasedDate'));
    type(root.querySelector('#patient-deceasedDate'), '2026-01-02');
    type(root.querySelector('#patient-reason'), 'died at home');
    fakeApp.UpdatePatient.mockResolvedValueOnce({ ...patient, deceased: true, deceasedDate: '2026-01-02', versionId: 'v2' });
    (byTestId(root, 'patient-save') as HTMLButtonElement).click();
    await waitFor(() => fakeApp.UpdatePatient.mock.calls.length > 0);
    expect(fakeApp.UpdatePatient).toHaveBeenCalledWith(
      expect.objectContaining({ patient: expect.objectContaining({ deceased: true, deceasedDate: '2026-01-02' }) }),
    );
  });
});

describe('PatientForm conflict', () => {
  it('reloads the latest version and keeps the user\'s own changes', async () => {
    const base = {
      id: 'p1', versionId: 'v1', clinicNo: 'OP-1', family: 'Schmidt', given: 'Catherine', other: '', sex: 'female',
      birthDate: '1982-04-17', birthEstimated: false, age: '44 y', nationalId: '', phone: '', village: 'Lowland',
      address: '', kinName: '', kinRelation: '', kinPhone: '', updatedAt: '', updatedBy: '', restricted: false,
    };
    fakeApp.UpdatePatient.mockRejectedValueOnce({ code: 'E_CONFLICT', message: 'Changed since you opened it.', incident: 'I-3' });
    fakeApp.GetPatient.mockResolvedValueOnce({ ...base, versionId: 'v2', phone: '0711 111 111', updatedBy: 'nurse' });
    const root = render(PatientForm, { patient: base, onsaved: () => {}, oncancel: () => {} });
    type(root.querySelector('#patient-village'), 'Upland');
    type(root.querySelector('#patient-reason'), 'moved');
    (byTestId(root, 'patient-save') as HTMLButtonElement).click();
    const reload = await waitFor(() => byTestId(root, 'conflict-reload') as HTMLButtonElement | null);
    expect(byTestId(root, 'problem-incident')!.textContent).toBe('I-3');
    expect((byTestId(root, 'patient-save') as HTMLButtonElement).disabled).toBe(true);
    reload.click();
    await waitFor(() => byTestId(root, 'merge-note'));
    expect((root.querySelector('#patient-village') as HTMLInputElement).value).toBe('Upland');
    expect((root.querySelector('#patient-phone') as HTMLInputElement).value).toBe('0711 111 111');
    expect((root.querySelector('#patient-reason') as HTMLInputElement).value).toBe('moved');

    fakeApp.UpdatePatient.mockResolvedValueOnce({ ...base, versionId: 'v3' });
    (byTestId(root, 'patient-save') as HTMLButtonElement).click();
    await waitFor(() => fakeApp.UpdatePatient.mock.calls.length === 2);
    expect(fakeApp.UpdatePatient.mock.calls[1][0]).toMatchObject({ baseVersionId: 'v2', reason: 'moved' });
  });
});

describe('Login', () => {
  it('shows the message and incident of a failed sign-in', async () => {
    fakeApp.Login.mockRejectedValueOnce(new Error('{"code":"E_AUTH","message":"Wrong username or password.","incident":"INC-42"}'));
    const root = render(Login, { status: { ...baseStatus }, onlogin: () => {} });
    expect(byTestId(root, 'notice')!.textContent).toContain('Test notice.');
    (byTestId(root, 'notice-accept') as HTMLInputElement).click();
    type(root.querySelector('#login-username'), 'admin');
    type(root.querySelector('#login-password'), 'wrong password');
    (byTestId(root, 'login-submit') as HTMLButtonElement).click();
    const msg = await waitFor(() => byTestId(root, 'problem-message'));
    expect(msg.textContent).toBe('Wrong username or password.');
    expect(byTestId(root, 'problem-incident')!.textContent).toBe('INC-42');
    expect((root.querySelector('#login-username') as HTMLInputElement).value).toBe('admin');
  });

  it('will not sign in before the notice is accepted', async () => {
    const root = render(Login, { status: { ...baseStatus }, onlogin: () => {} });
    type(root.querySelector('#login-username'), 'admin');
    type(root.querySelector('#login-password'), 'secret secret');
    (byTestId(root, 'login-submit') as HTMLButtonElement).click();
    await waitFor(() => byTestId(root, 'field-error-noticeAccepted'));
    expect(fakeApp.Login).not.toHaveBeenCalled();
  });
});

describe('App', () => {
  it('shows the screen Status asks for and reports UIReady once', async () => {
    fakeApp.Status.mockResolvedValue({ ...baseStatus, screen: 'setup', clinic: '', keyringAvailable: false, keyringHelp: 'Install gnome-keyring.' });
    const root = render(App, {});
    await waitFor(() => byTestId(root, 'setup-form'));
    await waitFor(() => fakeApp.UIReady.mock.calls.length > 0);
    expect(fakeApp.UIReady).toHaveBeenCalledTimes(1);
    expect(fakeApp.UIReady).toHaveBeenCalledWith('setup');
    expect(byTestId(root, 'keyring-help')!.textContent).toContain('Install gnome-keyring.');
    expect((byTestId(root, 'keystore-keyring') as HTMLInputElement).disabled).toBe(true);
    expect((byTestId(root, 'keystore-passphrase') as HTMLInputElement).checked).toBe(true);
  });

  it('shows a fatal problem with code and incident', async () => {
    fakeApp.Status.mockResolvedValue({
      ...baseStatus,
      screen: 'fatal',
      problem: { code: 'E_VAULT', message: 'The records cannot be opened. Restore the latest backup.', incident: 'INC-1' },
    });
    const root = render(App, {});
    await waitFor(() => byTestId(root, 'fatal'));
    expect(byTestId(root, 'fatal-message')!.textContent).toContain('Restore the latest backup');
    expect(byTestId(root, 'fatal-code')!.textContent).toBe('E_VAULT');
    expect(byTestId(root, 'fatal-incident')!.textContent).toBe('INC-1');
  });
});
