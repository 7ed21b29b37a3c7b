import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundledEntry } from '../../bin/bundle-cache.cjs';
import { CONVERTER_JOB_COMMAND } from '../../lambda/contracts/converter-jobs';
import { runInBackground } from '../background-priority';
import { LocalBatchJob, LocalJobRunner } from '../services/batch';

const ROOT = path.join(__dirname, '..', '..');
const ENTRYPOINT = path.join(ROOT, 'containers', 'images', 'converter', 'entrypoint.ts');

export interface LocalConverterContainerOptions {
  /**
   * The environment the deployed job definition gives the container, pointed at the embedded
   * services, for a job whose scratch volume is `scratch`.
   */
  readonly environment: (scratch: string) => Readonly<Record<string, string>>;
  /** Each job gets a scratch folder here, as the container gets its scratch volume; removed after the job. */
  readonly scratchRoot: string;
  /** Each job's output goes to `<jobId>.log` here, as the container's goes to its log stream. */
  readonly logDir: string;
}

export interface LocalConverterContainer {
  readonly run: LocalJobRunner;
}

/**
 * The converter container for local mode: the same entrypoint, run by Node from its cached bundle
 * (bin/bundle-cache.cjs: a job starts without compiling TypeScript) in a child process with only
 * the environment the job definition gives the container, the command that Batch builds from the
 * job's parameters, and a scratch folder of its own. The child has a process
 * group of its own, so that a Ctrl-C meant for local mode does not end the conversion as a failure;
 * when the machine goes away (`lost`), it is killed at once.
 */
export function localConverterContainer(options: LocalConverterContainerOptions): LocalConverterContainer {
  const run = async (job: LocalBatchJob, lost: AbortSignal): Promise<{ exitCode: number }> => {
    const scratch = path.join(options.scratchRoot, job.jobId);
    fs.mkdirSync(scratch, { recursive: true });
    fs.mkdirSync(options.logDir, { recursive: true });
    const log = fs.openSync(path.join(options.logDir, `${job.jobId}.log`), 'a');
    try {
      const entrypoint = await bundledEntry(ENTRYPOINT);
      const child = spawn(process.execPath, [entrypoint, ...commandOf(job)], {
        // The image's working directory, which holds its bundle likewise.
        cwd: ROOT,
        stdio: ['ignore', log, log],
        env: {
          PATH: process.env.PATH ?? '',
          ...options.environment(scratch),
          AWS_BATCH_JOB_ID: job.jobId,
          AWS_BATCH_JOB_ATTEMPT: String(job.attempts.length + 1),
          TMPDIR: scratch,
        },
        detached: true,
      });
      // On AWS it runs on a Batch host of its own, never on the API's cores.
      runInBackground(child.pid);
      const kill = () => {
        if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
      };
      lost.addEventListener('abort', kill, { once: true });
      if (lost.aborted) kill();
      try {
        return {
          exitCode: await new Promise<number>((resolve, reject) => {
            child.once('error', reject);
            // A container killed by a signal exits as 128 + its number, as Docker reports it.
            child.once('exit', (code, signal) => resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15)));
          }),
        };
      } finally {
        lost.removeEventListener('abort', kill);
      }
    } finally {
      fs.closeSync(log);
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  };
  return { run };
}

/** The job definition's command with `Ref::` names replaced by the job's parameters, as Batch does. */
function commandOf(job: LocalBatchJob): string[] {
  return CONVERTER_JOB_COMMAND.map((part) =>
    part.startsWith('Ref::') ? (job.parameters[part.slice('Ref::'.length)] ?? part) : part,
  );
}
