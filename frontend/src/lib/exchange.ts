// FHIR import and export in the UI: progress text, and the import that is
// running, so that leaving the Import and export area and coming back
// shows it again instead of losing track of it.

import type { ImportJob } from './api';

/** What the file chooser offers for a FHIR R4 Bundle. */
export const IMPORT_ACCEPT = 'application/json,application/fhir+json,.json';

/** How often the progress of an import is asked for, in milliseconds. */
export const POLL_MS = 250;

/** "120 of 239 entries", or while the Bundle is still being read (total 0) "Reading the file…". */
export function progressText(job: Pick<ImportJob, 'done' | 'total'>): string {
  if (job.total <= 0) return 'Reading the file…';
  const done = Math.min(Math.max(job.done, 0), job.total);
  return `${done} of ${job.total} ${job.total === 1 ? 'entry' : 'entries'}`;
}

// The import started in this window and not yet seen to its end, with the
// user who started it (the backend reports a job only to that user). No
// patient data: an id.
let running: { id: string; username: string } | null = null;

export function rememberImport(id: string, username: string): void {
  running = { id, username };
}

/** The id of the import this user started and has not seen finish, or ''. */
export function rememberedImport(username: string): string {
  return running && running.username === username ? running.id : '';
}

export function forgetImport(id: string): void {
  if (running?.id === id) running = null;
}
