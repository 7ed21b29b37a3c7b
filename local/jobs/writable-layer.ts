import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ContainerEngine } from './container-engine';

const run = promisify(execFile);

/** Bytes the files under a folder take on disk (their blocks, as a quota counts them), links not followed. */
export async function allocatedBytes(dir: string): Promise<number> {
  let total = 0;
  const walk = async (folder: string): Promise<void> => {
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(folder, { withFileTypes: true });
    } catch {
      return; // Removed while walking.
    }
    for (const entry of entries) {
      const target = path.join(folder, entry.name);
      try {
        total += (await fs.promises.lstat(target)).blocks * 512;
      } catch {
        continue;
      }
      if (entry.isDirectory()) await walk(target);
    }
  };
  await walk(dir);
  return total;
}

export interface WritableLayerWatch {
  /** Measures once more (the container has stopped, not yet been removed), then stops watching. */
  finish(): Promise<void>;
  /** Whether the layer held more than the limit at any measurement. */
  readonly exceeded: boolean;
}

/**
 * Holds a local container's writable layer (its upper directory) to a size, as the job instances'
 * Docker does with `overlay2.size`: the layer is measured every `intervalMs`, and once it holds
 * more than `limitBytes`, `onExceeded` stops the container. Unlike a quota this lets a write pass
 * the limit until the next measurement; it never lets the job succeed past it.
 */
export function watchWritableLayer(
  engine: ContainerEngine,
  container: string,
  limitBytes: number,
  onExceeded: () => void,
  intervalMs = 1000,
): WritableLayerWatch {
  let upperDir: string | undefined;
  let exceeded = false;
  let measuring: Promise<void> | undefined;
  const measure = async () => {
    upperDir ??= await run(engine.command, [
      'inspect',
      '--format',
      '{{.GraphDriver.Data.UpperDir}}',
      container,
    ]).then(
      ({ stdout }) => stdout.trim() || undefined,
      () => undefined, // Not created yet.
    );
    if (upperDir === undefined || exceeded) return;
    if ((await allocatedBytes(upperDir)) > limitBytes) {
      exceeded = true;
      onExceeded();
    }
  };
  const tick = () => {
    measuring ??= measure().finally(() => (measuring = undefined));
  };
  const timer = setInterval(tick, intervalMs);
  let finished: Promise<void> | undefined;
  return {
    finish() {
      clearInterval(timer);
      finished ??= (async () => {
        await measuring;
        await measure();
      })();
      return finished;
    },
    get exceeded() {
      return exceeded;
    },
  };
}
