import * as os from 'node:os';

/**
 * Niceness of local mode's background processes (function sandboxes of their own, the converter
 * container): on AWS they never take a core from the API; here, when both want one, the process
 * that answers requests gets it first.
 */
const BACKGROUND_NICENESS = 10;

/** Lowers a background process's CPU priority; a system that refuses leaves it as it is. */
export function runInBackground(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    os.setPriority(pid, BACKGROUND_NICENESS);
  } catch {
    // It then competes with the API as an equal, which is slower, not wrong.
  }
}
