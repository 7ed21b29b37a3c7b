import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { BUILDER_REPORT } from '../../lambda/contracts/builds';

const PROJECT_DIR = path.join(__dirname, '..', '..');
/** The builder's entry, run from its sources as tsx runs the rest of local mode. */
export const BUILDER_ENTRY = path.join(PROJECT_DIR, 'containers', 'builds', 'builder', 'main.ts');

/**
 * Runs the builder with `environment` (and nothing else of this process's but PATH and HOME, as
 * CodeBuild's container has its own), handing each line it prints to `log`, and resolves with its
 * exit code. An aborted `signal` stops it as CodeBuild stops a build: SIGTERM, then SIGKILL.
 */
export type BuilderRun = (
  environment: Readonly<Record<string, string>>,
  log: (line: string) => void,
  signal: AbortSignal,
) => Promise<number>;

/** Seconds the builder has after SIGTERM to remove what it tagged. */
const STOP_GRACE_MS = 10_000;

/** Runs `entry` (the builder's `main.ts` unless told otherwise) in a Node process of its own. */
export function builderProcess(entry: string = BUILDER_ENTRY): BuilderRun {
  return (environment, log, signal) => {
    if (!fs.existsSync(entry)) {
      log(
        `${BUILDER_REPORT.failed} the builder is not in this checkout (${path.relative(PROJECT_DIR, entry)})`,
      );
      return Promise.resolve(1);
    }
    const child = spawn(
      process.execPath,
      ['--require', require.resolve('tsx/cjs', { paths: [PROJECT_DIR] }), entry],
      {
        cwd: PROJECT_DIR,
        env: {
          ...Object.fromEntries(
            ['PATH', 'HOME'].flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])),
          ),
          ...environment,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream }).on('line', log);
    }
    let kill: NodeJS.Timeout | undefined;
    const stop = () => {
      child.kill('SIGTERM');
      kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    };
    signal.addEventListener('abort', stop, { once: true });
    if (signal.aborted) stop();
    return new Promise((resolve) => {
      child.on('error', (err) => log(`${BUILDER_REPORT.failed} the builder could not start: ${err.message}`));
      child.on('close', (code) => {
        clearTimeout(kill);
        signal.removeEventListener('abort', stop);
        resolve(code ?? 1);
      });
    });
  };
}
