// Session helpers: the idle lock timer and the periodic status check.
// Framework-free so they can be unit tested with fake timers.

export const ACTIVITY_EVENTS = ['keydown', 'mousedown', 'mousemove', 'wheel', 'touchstart'] as const;

/** Used when Status.idleMinutes is missing or not a positive number. */
export const DEFAULT_IDLE_MINUTES = 15;

/** Input restarts the backend's idle time too, at most this often. */
export const KEEPALIVE_MS = 60_000;

/**
 * Returns a function to call on every input event: it calls send at most
 * once per intervalMs, so the backend knows the user is active (reading a
 * chart makes no other calls) without a call per keystroke.
 */
export function throttle(send: () => void, intervalMs: number, now: () => number = () => Date.now()): () => void {
  let last = -Infinity;
  return () => {
    const t = now();
    if (t - last >= intervalMs) {
      last = t;
      send();
    }
  };
}

/** How often the frontend asks Status() while someone is signed in. */
export const STATUS_POLL_MS = 30_000;

export function idleMs(idleMinutes: unknown): number {
  const m = typeof idleMinutes === 'number' && Number.isFinite(idleMinutes) && idleMinutes > 0 ? idleMinutes : DEFAULT_IDLE_MINUTES;
  return Math.round(m * 60_000);
}

export interface IdleTimer {
  /** Called on every keyboard, mouse, wheel or touch event. Cheap. */
  activity(): void;
  /** Stops the timer; onIdle is never called afterwards. */
  dispose(): void;
}

export interface IdleClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: IdleClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Calls onIdle once when timeoutMs pass without activity(). Uses one timer
 * that is re-armed only when it fires early, so activity() costs nothing
 * but a timestamp. Wall-clock based: a suspended laptop that wakes after the
 * timeout locks at once.
 */
export function createIdleTimer(timeoutMs: number, onIdle: () => void, clock: IdleClock = realClock): IdleTimer {
  let last = clock.now();
  let handle: unknown = null;
  let disposed = false;

  function arm(ms: number) {
    handle = clock.setTimeout(check, Math.max(0, ms));
  }

  function check() {
    handle = null;
    if (disposed) return;
    const quiet = clock.now() - last;
    if (quiet >= timeoutMs) {
      disposed = true;
      onIdle();
    } else {
      arm(timeoutMs - quiet);
    }
  }

  arm(timeoutMs);

  return {
    activity() {
      if (!disposed) last = clock.now();
    },
    dispose() {
      disposed = true;
      if (handle !== null) clock.clearTimeout(handle);
      handle = null;
    },
  };
}
