import { ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { runInBackground } from '../background-priority';
import type { FunctionWorkerData, Invocation, WorkerMessage } from './function-worker';

const PROJECT_DIR = path.join(__dirname, '..', '..');
const WORKER = path.join(__dirname, 'function-worker.ts');

/**
 * Where a sandbox runs: a worker thread of this process (quick to start, for the API's functions,
 * whose caller waits anyway), or a child process of its own at a lower CPU priority, with its own
 * event loop, heap and libuv thread pool (for conversions and other background work), so that
 * nothing it does delays a request this process serves.
 */
export type SandboxIsolation = 'thread' | 'process';

/** The runtime under one sandbox: what carries invocations in and results out. */
export interface SandboxRuntime {
  post(invocation: Invocation): void;
  onMessage(listener: (message: WorkerMessage) => void): void;
  /** The module failed to load, or the runtime crashed. */
  onError(listener: (err: Error) => void): void;
  onExit(listener: (code: number | null) => void): void;
  /** Ends it at once, as Lambda ends an environment; resolves when it has ended. */
  stop(): Promise<void>;
}

/**
 * Starts the runtime of a sandbox with `environment` as its whole environment. Its output goes,
 * line by line, to this process's stdout and stderr, as Lambda sends a function's to its log group.
 */
export function startSandboxRuntime(
  isolation: SandboxIsolation,
  environment: Readonly<Record<string, string>>,
  data: FunctionWorkerData,
): SandboxRuntime {
  // TypeScript sources, as tsx runs them in the rest of local mode.
  const execArgv = ['--require', require.resolve('tsx/cjs', { paths: [PROJECT_DIR] })];
  if (isolation === 'thread') {
    const worker = new Worker(WORKER, {
      execArgv,
      env: environment,
      workerData: data,
      stdout: true,
      stderr: true,
    });
    forwardLines(worker.stdout, process.stdout);
    forwardLines(worker.stderr, process.stderr);
    worker.unref();
    return {
      post: (invocation) => worker.postMessage(invocation),
      onMessage: (listener) => worker.on('message', listener),
      onError: (listener) => worker.on('error', listener),
      onExit: (listener) => worker.on('exit', listener),
      stop: async () => void (await worker.terminate()),
    };
  }
  const child: ChildProcess = fork(WORKER, [JSON.stringify(data)], {
    cwd: PROJECT_DIR,
    execArgv,
    env: environment,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // A group of its own: a Ctrl-C meant for local mode reaches local mode, which stops it.
    detached: true,
  });
  runInBackground(child.pid);
  forwardLines(child.stdout!, process.stdout);
  forwardLines(child.stderr!, process.stderr);
  // As a worker thread is, it keeps nothing running by itself: local mode stops it.
  child.unref();
  child.channel?.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    post: (invocation) => child.send(invocation),
    onMessage: (listener) => child.on('message', listener),
    onError: (listener) => child.on('error', listener),
    onExit: (listener) => child.on('exit', (code, signal) => listener(code ?? (signal ? 128 : null))),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Copies whole lines, so that lines of sandboxes writing at once never interleave mid-line. */
function forwardLines(from: Readable, to: NodeJS.WriteStream): void {
  readline.createInterface({ input: from, crlfDelay: Infinity }).on('line', (line) => to.write(`${line}\n`));
}
