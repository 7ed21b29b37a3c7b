import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';

/** How often a stopped podman build's step processes are looked for and killed. */
const STEP_KILL_INTERVAL_MS = 250;
/**
 * How long a stopped podman build has to fail its step and clean up before it is sent SIGTERM:
 * well within the 10 seconds local mode gives the builder before SIGKILL, so that the builder
 * still removes what it tagged.
 */
const CLEAN_UP_MS = 5_000;

/**
 * Stops an engine's `build` (or `push`) process. podman sent a signal leaves the working container
 * of the step under way in its storage (`podman ps --external`), holding its base image; a step
 * whose processes are killed fails instead, and podman removes the container as for any failed
 * step. So podman's processes under it are killed (again as each step starts) until it exits, and
 * only then, or after `CLEAN_UP_MS`, is it sent SIGTERM. docker's client is sent SIGTERM, which
 * cancels the build in the daemon.
 */
export function stopEngineProcess(child: ChildProcess, podman: boolean): void {
  if (!podman || child.pid === undefined) {
    child.kill('SIGTERM');
    return;
  }
  const root = child.pid;
  const started = Date.now();
  const timer = setInterval(() => {
    if (Date.now() - started > CLEAN_UP_MS) {
      child.kill('SIGTERM');
      clearInterval(timer);
      return;
    }
    for (const pid of descendants(root)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already, or not ours to signal.
      }
    }
  }, STEP_KILL_INTERVAL_MS);
  timer.unref();
  child.once('close', () => clearInterval(timer));
}

/** The processes under `root`, from Linux's /proc; none where there is no /proc. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // `pid (command) state ppid ...`: the command may hold spaces and parentheses.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}
