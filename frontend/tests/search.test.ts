import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PatientHit } from '../src/lib/api';
import { createSearch, resultsAreCurrent, type SearchState } from '../src/lib/search';

function hit(id: string, family = 'Schmidt'): PatientHit {
  return { id, clinicNo: id, family, given: 'Catherine', other: '', sex: 'female', birthDate: '1982-04-17', birthEstimated: false, age: '44 y', village: 'Lowland', match: 'name', restricted: false };
}

interface Deferred {
  query: string;
  resolve: (h: PatientHit[]) => void;
  reject: (e: unknown) => void;
}

function deferredFetcher() {
  const calls: Deferred[] = [];
  const fetcher = vi.fn(
    (query: string) =>
      new Promise<PatientHit[]>((resolve, reject) => {
        calls.push({ query, resolve, reject });
      }),
  );
  return { calls, fetcher };
}

const settle = () => new Promise<void>((r) => queueMicrotask(() => r()));

describe('createSearch', () => {
  let states: SearchState[];
  const last = () => states[states.length - 1];

  beforeEach(() => {
    vi.useFakeTimers();
    states = [];
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('debounces keystrokes into one request', async () => {
    const { calls, fetcher } = deferredFetcher();
    const s = createSearch(fetcher, (st) => states.push(st), 150);
    s.setQuery('s');
    vi.advanceTimersByTime(50);
    s.setQuery('sc');
    vi.advanceTimersByTime(50);
    s.setQuery('sch');
    expect(fetcher).not.toHaveBeenCalled();
    expect(last().phase).toBe('waiting');
    vi.advanceTimersByTime(150);
    expect(fetcher).toHaveBeenCalledTimes(1);
    expect(fetcher).toHaveBeenCalledWith('sch');
    calls[0].resolve([hit('1')]);
    await settle();
    expect(last()).toMatchObject({ phase: 'done', resultsFor: 'sch', query: 'sch' });
    expect(last().hits).toHaveLength(1);
    expect(resultsAreCurrent(last())).toBe(true);
  });

  it('ignores a response that arrives after a newer query was sent', async () => {
    const { calls, fetcher } = deferredFetcher();
    const s = createSearch(fetcher, (st) => states.push(st), 150);
    s.setQuery('sch');
    vi.advanceTimersByTime(150);
    s.setQuery('schmidt');
    vi.advanceTimersByTime(150);
    expect(calls.map((c) => c.query)).toEqual(['sch', 'schmidt']);
    // Newest answers first, then the stale one.
    calls[1].resolve([hit('new')]);
    await settle();
    calls[0].resolve([hit('old1'), hit('old2')]);
    await settle();
    expect(last().resultsFor).toBe('schmidt');
    expect(last().hits.map((h) => h.id)).toEqual(['new']);
    expect(states.some((st) => st.hits.some((h) => h.id === 'old1'))).toBe(false);
  });

  it('ignores a stale failure too', async () => {
    const { calls, fetcher } = deferredFetcher();
    const s = createSearch(fetcher, (st) => states.push(st), 150);
    s.setQuery('a');
    vi.advanceTimersByTime(150);
    s.setQuery('ab');
    vi.advanceTimersByTime(150);
    calls[1].resolve([hit('1')]);
    calls[0].reject({ code: 'E_INTERNAL', message: 'x' });
    await settle();
    await settle();
    expect(last().phase).toBe('done');
  });

  it('clears at once for an empty query and drops what is in flight', async () => {
    const { calls, fetcher } = deferredFetcher();
    const s = createSearch(fetcher, (st) => states.push(st), 150);
    s.setQuery('sch');
    vi.advanceTimersByTime(150);
    s.setQuery('   ');
    expect(last()).toMatchObject({ phase: 'empty', hits: [] });
    calls[0].resolve([hit('1')]);
    await settle();
    expect(last()).toMatchObject({ phase: 'empty', hits: [] });
  });

  it('reports failures as problems', async () => {
    const { calls, fetcher } = deferredFetcher();
    const s = createSearch(fetcher, (st) => states.push(st), 150);
    s.setQuery('x');
    vi.advanceTimersByTime(150);
    calls[0].reject('{"code":"E_FORBIDDEN","message":"Not allowed.","incident":"I1"}');
    await settle();
    await settle();
    expect(last().phase).toBe('error');
    expect(last().problem).toEqual({ code: 'E_FORBIDDEN', message: 'Not allowed.', incident: 'I1' });
  });

  it('flush runs the pending query without waiting', () => {
    const { fetcher } = deferredFetcher();
    const s = createSearch(fetcher, (st) => states.push(st), 150);
    s.setQuery('OP-00001');
    s.flush();
    expect(fetcher).toHaveBeenCalledWith('OP-00001');
    vi.advanceTimersByTime(500);
    expect(fetcher).toHaveBeenCalledTimes(1);
  });

  it('does not search again when only surrounding spaces change', async () => {
    const { calls, fetcher } = deferredFetcher();
    const s = createSearch(fetcher, (st) => states.push(st), 150);
    s.setQuery('kathryn');
    vi.advanceTimersByTime(150);
    calls[0].resolve([hit('1')]);
    await settle();
    s.setQuery('kathryn ');
    vi.advanceTimersByTime(500);
    expect(fetcher).toHaveBeenCalledTimes(1);
    expect(resultsAreCurrent(last())).toBe(true);
  });

  it('refresh re-runs the current query', async () => {
    const { calls, fetcher } = deferredFetcher();
    const s = createSearch(fetcher, (st) => states.push(st), 150);
    s.setQuery('kathryn');
    vi.advanceTimersByTime(150);
    calls[0].resolve([hit('1')]);
    await settle();
    s.refresh();
    expect(fetcher).toHaveBeenCalledTimes(2);
  });

  it('reports nothing after dispose', async () => {
    const { calls, fetcher } = deferredFetcher();
    const s = createSearch(fetcher, (st) => states.push(st), 150);
    s.setQuery('x');
    vi.advanceTimersByTime(150);
    const before = states.length;
    s.dispose();
    calls[0].resolve([hit('1')]);
    await settle();
    s.setQuery('y');
    vi.advanceTimersByTime(500);
    expect(states.length).toBe(before);
    expect(fetcher).toHaveBeenCalledTimes(1);
  });
});
