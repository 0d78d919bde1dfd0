// Signed updates in the UI (docs/updates.md, "In the app"): the types of
// UpdateStatus and SetUpdateSettings, what the home banner says, the
// settings form's checks (the backend checks again) and a signal that
// tells the banner to read the state again. Pure functions, no DOM.

export type UpdatePolicy = 'ask' | 'auto-security';

export const UPDATE_POLICIES: readonly { id: UpdatePolicy; label: string; hint: string }[] = [
  {
    id: 'auto-security',
    label: 'Install security updates automatically',
    hint: 'A security release installs itself as soon as it is found; users are asked to restart Outpost. Other releases wait for an administrator.',
  },
  {
    id: 'ask',
    label: 'Ask an administrator',
    hint: 'Every release is announced; an administrator installs it here.',
  },
];

/** A release newer than the running program. Notes are plain text: show them as text. */
export interface UpdateRelease {
  version: string;
  security: boolean;
  notes: string;
  size: number;
}

/** UpdateStatus. Users without settings.manage get installed, available and the restart only. */
export interface UpdateState {
  installed: string;
  available?: UpdateRelease | null;
  /** installedVersion was installed; it runs once Outpost is restarted. */
  restartNeeded: boolean;
  installedVersion: string;
  canManage: boolean;
  highest: string;
  repository: string;
  pin: string;
  policy: UpdatePolicy | '';
  /** RFC 3339; '' never. */
  lastRefreshed: string;
  expires: string;
  expired: boolean;
  lastCheck: string;
  checking: boolean;
  /** The last check's or install's plain message. */
  lastError: string;
  incident: string;
}

export interface UpdateSettings {
  repository: string;
  pin: string;
  policy: UpdatePolicy | '';
}

/** How often the home banner reads the state (ms), and the admin view while a check runs. */
export const UPDATE_POLL_MS = 10 * 60_000;
export const UPDATE_CHECKING_POLL_MS = 1_000;

/** A state with every field present (the binding may leave some out). */
export function updateState(s: Partial<UpdateState> | null | undefined): UpdateState {
  const a = s?.available;
  return {
    installed: s?.installed ?? '',
    available: a ? { version: a.version ?? '', security: !!a.security, notes: a.notes ?? '', size: a.size ?? 0 } : null,
    restartNeeded: !!s?.restartNeeded,
    installedVersion: s?.installedVersion ?? '',
    canManage: !!s?.canManage,
    highest: s?.highest ?? '',
    repository: s?.repository ?? '',
    pin: s?.pin ?? '',
    policy: s?.policy ?? '',
    lastRefreshed: s?.lastRefreshed ?? '',
    expires: s?.expires ?? '',
    expired: !!s?.expired,
    lastCheck: s?.lastCheck ?? '',
    checking: !!s?.checking,
    lastError: s?.lastError ?? '',
    incident: s?.incident ?? '',
  };
}

export type BannerKind = 'restart' | 'security' | 'available' | null;

/** What the home banner shows: a pending restart first, then a security release, then any release. */
export function bannerKind(s: UpdateState | null): BannerKind {
  if (!s) return null;
  if (s.restartNeeded) return 'restart';
  if (s.available?.security) return 'security';
  if (s.available) return 'available';
  return null;
}

/** "12.4 MB", "800 KB", "512 bytes". */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) return '';
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

const HEX64 = /^[0-9a-fA-F]{64}$/;

/** An https:// address, or the full path of a folder (/media/usb/…, C:\…, \\server\share\…). */
function repositoryError(r: string): string {
  if (r === '') return '';
  if (r.length > 2000 || /[\u0000-\u001f\u007f]/.test(r)) return 'Enter a shorter address or folder, on one line.';
  if (/^https:\/\//i.test(r)) {
    try {
      const u = new URL(r);
      if (!u.host || u.username || u.password || u.search || u.hash) {
        return 'Enter the address as https://host/path, without a user name, query or #.';
      }
    } catch {
      return 'Enter the address as https://host/path, without a user name, query or #.';
    }
    return '';
  }
  if (r.includes('://')) return 'Only https:// addresses are accepted (or a folder such as a USB stick).';
  if (!(r.startsWith('/') || /^[A-Za-z]:[\\/]/.test(r) || r.startsWith('\\\\'))) {
    return 'Enter the folder\'s full path, e.g. /media/usb/outpost-updates, or an https:// address.';
  }
  return '';
}

/** The form's field messages, keyed as the backend keys them. */
export function updateSettingsErrors(s: UpdateSettings): Record<string, string> {
  const e: Record<string, string> = {};
  const repo = s.repository.trim();
  const re = repositoryError(repo);
  if (re) e.repository = re;
  const pin = s.pin.trim();
  if (pin !== '') {
    if (!HEX64.test(pin.replace(/[:\s]/g, ''))) {
      e.pin = 'Enter the certificate\'s SHA-256 fingerprint: 64 hexadecimal digits, in pairs separated by colons, as outpost-server fingerprint prints it.';
    } else if (!/^https:\/\//i.test(repo)) {
      e.pin = 'A certificate fingerprint applies to an https:// repository only; leave it empty for a folder.';
    }
  }
  if (s.policy !== 'ask' && s.policy !== 'auto-security') {
    e.policy = 'Choose whether security updates install themselves or wait for an administrator.';
  }
  return e;
}

type Listener = () => void;
const listeners = new Set<Listener>();

/** Runs fn whenever updatesChanged is called; returns the unsubscribe. */
export function onUpdatesChanged(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The admin view installed a release or changed the settings: the banner reads the state again. */
export function updatesChanged(): void {
  for (const fn of [...listeners]) fn();
}
