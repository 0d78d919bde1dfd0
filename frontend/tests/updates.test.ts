import { describe, expect, it, vi } from 'vitest';
import { flushSync } from 'svelte';
import AdminUpdates from '../src/components/AdminUpdates.svelte';
import UpdateBanner from '../src/components/UpdateBanner.svelte';
import { bannerKind, formatSize, updateSettingsErrors, updateState, type UpdateState } from '../src/lib/updates';
import { fakeApp } from './fakeGo';
import { byTestId, click, render, type, waitFor } from './render';

const NOTES = 'Fixes a lockout after a password change.\n<b>Install today.</b>';

function st(over: Partial<UpdateState> = {}): UpdateState {
  return updateState({
    installed: '1.0.0',
    highest: '1.0.0',
    repository: '/media/usb/outpost-updates',
    policy: 'ask',
    lastRefreshed: '2026-11-23T09:00:00Z',
    expires: '2026-11-30T09:00:00Z',
    lastCheck: '2026-11-23T09:00:00Z',
    canManage: true,
    ...over,
  });
}

const security = { version: '2.0.0', security: true, notes: NOTES, size: 12_582_912 };

function stub(name: string, impl: (...args: any[]) => Promise<any>) {
  const fn = vi.fn(impl);
  fakeApp[name] = fn;
  return fn;
}

function submit(form: Element | null) {
  (form as HTMLFormElement).requestSubmit();
  flushSync();
}

describe('update helpers', () => {
  it('picks the banner: restart first, then a security release, then any release', () => {
    const cases: [UpdateState | null, ReturnType<typeof bannerKind>][] = [
      [null, null],
      [st(), null],
      [st({ available: { ...security, security: false } }), 'available'],
      [st({ available: security }), 'security'],
      [st({ available: security, restartNeeded: true, installedVersion: '2.0.0' }), 'restart'],
    ];
    for (const [s, want] of cases) expect(bannerKind(s)).toBe(want);
  });

  it('formats sizes', () => {
    const cases: [number, string][] = [
      [0, ''],
      [512, '512 bytes'],
      [2048, '2 KB'],
      [12_582_912, '12.0 MB'],
    ];
    for (const [n, want] of cases) expect(formatSize(n)).toBe(want);
  });

  it('checks the settings form as the backend does', () => {
    const pin = 'ab'.repeat(32);
    const cases: [string, string, string, string[]][] = [
      ['/media/usb/outpost-updates', '', 'ask', []],
      ['C:\\Updates', '', 'auto-security', []],
      ['https://clinic-server:8443/updates', pin, 'ask', []],
      ['', '', 'ask', []],
      ['http://clinic/updates', '', 'ask', ['repository']],
      ['updates', '', 'ask', ['repository']],
      ['https://me:pw@clinic/updates', '', 'ask', ['repository']],
      ['https://clinic/updates', 'AB:CD', 'ask', ['pin']],
      ['/media/usb', pin, 'ask', ['pin']],
      ['/media/usb', '', '', ['policy']],
    ];
    for (const [repository, p, policy, want] of cases) {
      const got = Object.keys(updateSettingsErrors({ repository, pin: p, policy: policy as any })).sort();
      expect(got, `${repository} ${p} ${policy}`).toEqual(want);
    }
  });

  it('fills a partial state', () => {
    const s = updateState({ installed: '1.0.0' });
    expect(s.available).toBeNull();
    expect(s.restartNeeded).toBe(false);
    expect(s.lastError).toBe('');
  });
});

describe('UpdateBanner', () => {
  it('announces a security release in the warning colour with its notes as plain text', async () => {
    stub('UpdateStatus', async () => ({ installed: '1.0.0', available: security, canManage: false }));
    const root = render(UpdateBanner, {});
    const banner = await waitFor(() => byTestId(root, 'update-banner'));
    expect(banner.dataset.kind).toBe('security');
    expect(banner.classList.contains('warn-box')).toBe(true);
    expect(banner.textContent).toContain('Security update available: Outpost 2.0.0');
    const notes = byTestId(root, 'update-banner-notes')!;
    expect(notes.textContent).toBe(NOTES);
    expect(notes.querySelector('b')).toBeNull();
    expect(banner.textContent).toContain('Tell your administrator');
    expect(byTestId(root, 'update-banner-hide')).toBeNull(); // a security release cannot be hidden
  });

  it('offers administrators the way to Updates', async () => {
    stub('UpdateStatus', async () => ({ installed: '1.0.0', available: security, canManage: true }));
    const onopen = vi.fn();
    const root = render(UpdateBanner, { onopen });
    click(await waitFor(() => byTestId(root, 'update-banner-open')));
    expect(onopen).toHaveBeenCalledOnce();
  });

  it('shows an ordinary release quietly, and hides it on request', async () => {
    stub('UpdateStatus', async () => ({ installed: '1.0.0', available: { version: '1.1.0', security: false, notes: 'Faster search.', size: 10 } }));
    const root = render(UpdateBanner, {});
    const banner = await waitFor(() => byTestId(root, 'update-banner'));
    expect(banner.dataset.kind).toBe('available');
    expect(banner.classList.contains('info-box')).toBe(true);
    click(byTestId(root, 'update-banner-hide'));
    expect(byTestId(root, 'update-banner')).toBeNull();
  });

  it('asks for a restart after an install', async () => {
    stub('UpdateStatus', async () => ({ installed: '1.0.0', restartNeeded: true, installedVersion: '2.0.0' }));
    const root = render(UpdateBanner, {});
    const banner = await waitFor(() => byTestId(root, 'update-banner'));
    expect(banner.dataset.kind).toBe('restart');
    expect(banner.textContent).toContain('Outpost 2.0.0 is installed. Restart Outpost to finish the update.');
  });

  it('shows nothing when up to date or when the state cannot be read', async () => {
    const status = stub('UpdateStatus', async () => ({ installed: '1.0.0' }));
    let root = render(UpdateBanner, {});
    await waitFor(() => status.mock.calls.length > 0);
    await new Promise((r) => setTimeout(r, 10));
    flushSync();
    expect(byTestId(root, 'update-banner')).toBeNull();
    const failing = stub('UpdateStatus', async () => {
      throw { code: 'E_INTERNAL', message: 'Something went wrong.' };
    });
    root = render(UpdateBanner, {});
    await waitFor(() => failing.mock.calls.length > 0);
    expect(byTestId(root, 'update-banner')).toBeNull();
  });
});

describe('AdminUpdates', () => {
  it('shows the installed version, the repository, freshness and an expiry warning', async () => {
    stub('UpdateStatus', async () => st({ expired: true, lastError: 'The update repository\'s signatures have expired.', incident: 'ABCD-EFGH' }));
    const root = render(AdminUpdates, {});
    await waitFor(() => byTestId(root, 'updates-installed'));
    expect(byTestId(root, 'updates-installed')!.textContent).toBe('1.0.0');
    expect(byTestId(root, 'updates-repository')!.textContent).toBe('/media/usb/outpost-updates');
    expect(byTestId(root, 'updates-refreshed')!.textContent).not.toBe('Never');
    expect(byTestId(root, 'updates-expired')!.textContent).toContain('The update metadata has expired');
    expect(byTestId(root, 'updates-error')!.textContent).toContain('ABCD-EFGH');
    expect((byTestId(root, 'updates-policy-ask') as HTMLInputElement).checked).toBe(true);
  });

  it('says when no repository is set', async () => {
    stub('UpdateStatus', async () => st({ repository: '', lastRefreshed: '', expires: '', lastCheck: '' }));
    const root = render(AdminUpdates, {});
    await waitFor(() => byTestId(root, 'updates-repository'));
    expect(byTestId(root, 'updates-repository')!.textContent).toContain('Not set');
    expect(byTestId(root, 'updates-refreshed')!.textContent).toBe('Never');
    expect((byTestId(root, 'updates-check') as HTMLButtonElement).disabled).toBe(true);
  });

  it('installs the available release and asks for a restart', async () => {
    stub('UpdateStatus', async () => st({ available: security }));
    const install = stub('InstallUpdate', async () =>
      st({ highest: '2.0.0', restartNeeded: true, installedVersion: '2.0.0' }),
    );
    const root = render(AdminUpdates, {});
    const rel = await waitFor(() => byTestId(root, 'updates-available'));
    expect(rel.dataset.security).toBe('true');
    expect(byTestId(root, 'updates-notes')!.textContent).toBe(NOTES);
    expect(rel.textContent).toContain('12.0 MB');
    click(byTestId(root, 'updates-install'));
    await waitFor(() => byTestId(root, 'updates-restart'));
    expect(install).toHaveBeenCalledWith('2.0.0');
    expect(byTestId(root, 'updates-restart')!.textContent).toContain('Restart Outpost to finish');
    expect(byTestId(root, 'updates-available')).toBeNull();
  });

  it('shows why an install was refused', async () => {
    stub('UpdateStatus', async () => st({ available: security }));
    stub('InstallUpdate', async () => {
      throw { code: 'E_UPDATE', message: 'A file in the update repository was altered.', incident: 'WXYZ-1234' };
    });
    const root = render(AdminUpdates, {});
    click(await waitFor(() => byTestId(root, 'updates-install')));
    const p = await waitFor(() => byTestId(root, 'updates-problem'));
    expect(p.textContent).toContain('was altered');
  });

  it('checks now', async () => {
    stub('UpdateStatus', async () => st());
    const check = stub('CheckForUpdates', async () => st({ available: { version: '1.1.0', security: false, notes: '', size: 0 } }));
    const root = render(AdminUpdates, {});
    click(await waitFor(() => byTestId(root, 'updates-check')));
    const rel = await waitFor(() => byTestId(root, 'updates-available'));
    expect(check).toHaveBeenCalledOnce();
    expect(rel.dataset.security).toBe('false');
  });

  it('checks the settings before sending them', async () => {
    stub('UpdateStatus', async () => st({ repository: '', policy: 'ask' }));
    const save = stub('SetUpdateSettings', async () => st());
    const root = render(AdminUpdates, {});
    const repo = await waitFor(() => root.querySelector<HTMLInputElement>('#updates-repository'));
    type(repo, 'media/usb');
    submit(byTestId(root, 'updates-form'));
    await waitFor(() => byTestId(root, 'field-error-repository'));
    expect(save).not.toHaveBeenCalled();
    await waitFor(() => document.activeElement === repo);
  });

  it('shows the backend\'s field messages', async () => {
    stub('UpdateStatus', async () => st({ repository: '', policy: 'ask' }));
    stub('SetUpdateSettings', async () => {
      throw { code: 'E_VALIDATION', message: 'Some fields need attention.', fields: { pin: 'Enter the certificate\'s SHA-256 fingerprint.' } };
    });
    const root = render(AdminUpdates, {});
    type(await waitFor(() => root.querySelector('#updates-repository')), 'https://clinic/updates');
    type(root.querySelector('#updates-pin'), 'ab'.repeat(32));
    submit(byTestId(root, 'updates-form'));
    const err = await waitFor(() => byTestId(root, 'field-error-pin'));
    expect(err.textContent).toContain('SHA-256');
  });

  it('saves the settings and follows the check that starts', async () => {
    let calls = 0;
    stub('UpdateStatus', async () => {
      calls++;
      return calls === 1 ? st({ repository: '', policy: 'ask', lastCheck: '' }) : st({ repository: '/media/usb/outpost-updates', policy: 'auto-security', available: security });
    });
    const save = stub('SetUpdateSettings', async () => st({ repository: '/media/usb/outpost-updates', policy: 'auto-security', checking: true, lastCheck: '' }));
    const root = render(AdminUpdates, { checkingPollMs: 5 });
    type(await waitFor(() => root.querySelector('#updates-repository')), ' /media/usb/outpost-updates ');
    click(byTestId(root, 'updates-policy-auto-security'));
    submit(byTestId(root, 'updates-form'));
    await waitFor(() => byTestId(root, 'updates-flash'));
    expect(save).toHaveBeenCalledWith({ repository: '/media/usb/outpost-updates', pin: '', policy: 'auto-security' });
    expect(byTestId(root, 'updates-last-check')!.textContent).toContain('Checking now');
    const rel = await waitFor(() => byTestId(root, 'updates-available'));
    expect(rel.textContent).toContain('Outpost 2.0.0');
  });
});
