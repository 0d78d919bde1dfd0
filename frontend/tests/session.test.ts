import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_IDLE_MINUTES, createIdleTimer, idleMs } from '../src/lib/session';

describe('idleMs', () => {
  it('turns Status.idleMinutes into milliseconds', () => {
    expect(idleMs(15)).toBe(15 * 60_000);
    expect(idleMs(0.5)).toBe(30_000);
  });

  it.each([[0], [-3], [Number.NaN], [undefined], ['10'], [null]])('falls back to the default for %s', (v) => {
    expect(idleMs(v)).toBe(DEFAULT_IDLE_MINUTES * 60_000);
  });
});

describe('createIdleTimer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires once after the timeout without activity', () => {
    const onIdle = vi.fn();
    createIdleTimer(60_000, onIdle);
    vi.advanceTimersByTime(59_999);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onIdle).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10 * 60_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('counts from the last activity', () => {
    const onIdle = vi.fn();
    const timer = createIdleTimer(60_000, onIdle);
    vi.advanceTimersByTime(50_000);
    timer.activity();
    vi.advanceTimersByTime(50_000);
    expect(onIdle).not.toHaveBeenCalled();
    timer.activity();
    vi.advanceTimersByTime(59_000);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('never fires after dispose', () => {
    const onIdle = vi.fn();
    const timer = createIdleTimer(1_000, onIdle);
    timer.dispose();
    vi.advanceTimersByTime(5_000);
    expect(onIdle).not.toHaveBeenCalled();
  });

  it('locks at once when the clock jumped past the timeout (suspended laptop)', () => {
    let now = 0;
    const pending: (() => void)[] = [];
    const onIdle = vi.fn();
    createIdleTimer(60_000, onIdle, {
      now: () => now,
      setTimeout: (fn) => pending.push(fn),
      clearTimeout: () => {},
    });
    now = 3 * 60 * 60_000; // the timer callback runs late, after hours asleep
    pending.shift()!();
    expect(onIdle).toHaveBeenCalledTimes(1);
  });
});

describe('throttle', () => {
  it('sends at most once per interval', async () => {
    const { throttle } = await import('../src/lib/session');
    let t = 0;
    let sent = 0;
    const f = throttle(() => sent++, 60_000, () => t);
    f();
    f();
    t = 59_999;
    f();
    expect(sent).toBe(1);
    t = 60_000;
    f();
    expect(sent).toBe(2);
  });
});
