// Search-as-you-type: debounces keystrokes and drops responses that arrive
// after a newer query was issued. Framework-free so it can be unit tested.

import type { PatientHit, Problem } from './api';
import { normalizeProblem } from './api';

export type SearchPhase = 'empty' | 'waiting' | 'loading' | 'done' | 'error';

export interface SearchState {
  /** What the user typed (untrimmed). */
  query: string;
  phase: SearchPhase;
  hits: PatientHit[];
  /** The trimmed query the current hits belong to. */
  resultsFor: string;
  problem: Problem | null;
}

export interface SearchController {
  /** Called on every keystroke. */
  setQuery(query: string): void;
  /** Runs the pending query at once (e.g. on Enter). */
  flush(): void;
  /** Runs the current query again at once (e.g. after a record changed). */
  refresh(): void;
  /** Cancels timers and ignores every response still in flight. */
  dispose(): void;
  readonly state: SearchState;
}

export type SearchFetcher = (query: string) => Promise<PatientHit[]>;

export function emptySearchState(): SearchState {
  return { query: '', phase: 'empty', hits: [], resultsFor: '', problem: null };
}

export function createSearch(
  fetcher: SearchFetcher,
  onChange: (s: SearchState) => void,
  delayMs = 150,
  initial: SearchState = emptySearchState(),
): SearchController {
  let state: SearchState = { ...initial, hits: [...initial.hits] };
  let timer: ReturnType<typeof setTimeout> | null = null;
  let issued = 0; // sequence number of the newest request (or clear)
  let pendingQuery: string | null = null;
  let disposed = false;

  function publish(next: SearchState) {
    state = next;
    if (!disposed) onChange(state);
  }

  function clearTimer() {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
  }

  function run(q: string) {
    pendingQuery = null;
    const seq = ++issued;
    publish({ ...state, phase: 'loading', problem: null });
    fetcher(q).then(
      (hits) => {
        if (disposed || seq !== issued) return; // out of order or stale
        publish({ ...state, phase: 'done', hits: hits ?? [], resultsFor: q, problem: null });
      },
      (err) => {
        if (disposed || seq !== issued) return;
        publish({ ...state, phase: 'error', hits: [], resultsFor: q, problem: normalizeProblem(err) });
      },
    );
  }

  return {
    get state() {
      return state;
    },
    setQuery(query: string) {
      if (disposed) return;
      clearTimer();
      const q = query.trim();
      if (q === '') {
        issued++; // anything still in flight is now stale
        pendingQuery = null;
        publish({ query, phase: 'empty', hits: [], resultsFor: '', problem: null });
        return;
      }
      if (q === state.resultsFor && (state.phase === 'done' || state.phase === 'error') && pendingQuery === null) {
        // Only whitespace changed; keep the results.
        publish({ ...state, query });
        return;
      }
      pendingQuery = q;
      publish({ ...state, query, phase: state.phase === 'loading' ? 'loading' : 'waiting' });
      timer = setTimeout(() => {
        timer = null;
        run(q);
      }, delayMs);
    },
    flush() {
      if (disposed || pendingQuery === null) return;
      clearTimer();
      run(pendingQuery);
    },
    refresh() {
      if (disposed) return;
      const q = state.query.trim();
      if (q === '') return;
      clearTimer();
      run(q);
    },
    dispose() {
      disposed = true;
      clearTimer();
      issued++;
    },
  };
}

/** True when the hits on screen belong to what is typed in the box. */
export function resultsAreCurrent(s: SearchState): boolean {
  return s.phase === 'done' && s.resultsFor === s.query.trim();
}
