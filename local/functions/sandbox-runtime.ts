import { ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { runInBackground } from '../background-priority';
import type { FunctionWorkerData, Invocation, WorkerMessage } from './function-worker';
import { SandboxCode, sandboxBundles } from './sandbox-bundles';

const PROJECT_DIR = path.join(__dirname, '..', '..');

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
 * Starts the runtime of a sandbox with `environment` as its whole environment, from the bundles of
 * its code (built first if its sources changed). Its output goes, line by line, to this process's
 * stdout and stderr, as Lambda sends a function's to its log group.
 */
export function startSandboxRuntime(
  isolation: SandboxIsolation,
  environment: Readonly<Record<string, string>>,
  code: SandboxCode & Pick<FunctionWorkerData, 'missingModules'>,
): SandboxRuntime {
  const listeners = {
    message: [] as ((message: WorkerMessage) => void)[],
    error: [] as ((err: Error) => void)[],
    exit: [] as ((code: number | null) => void)[],
  };
  let stopping = false;
  let started: SandboxRuntime | undefined;
  const starting = sandboxBundles(code).then(
    ({ worker, fn }) => {
      if (stopping) return undefined;
      started = launch(isolation, environment, worker, { bundle: fn, missingModules: code.missingModules });
      started.onMessage((message) => listeners.message.forEach((listener) => listener(message)));
      started.onError((err) => listeners.error.forEach((listener) => listener(err)));
      started.onExit((exitCode) => listeners.exit.forEach((listener) => listener(exitCode)));
      return started;
    },
    // A source that does not build fails the sandbox as a module that does not load.
    (err: Error) => {
      listeners.error.forEach((listener) => listener(err));
      return undefined;
    },
  );
  return {
    post: (invocation) =>
      started ? started.post(invocation) : void starting.then((runtime) => runtime?.post(invocation)),
    onMessage: (listener) => listeners.message.push(listener),
    onError: (listener) => listeners.error.push(listener),
    onExit: (listener) => listeners.exit.push(listener),
    stop: async () => {
      stopping = true;
      await (await starting)?.stop();
    },
  };
}

/** Runs the worker's bundle in a thread or a process of its own. */
function launch(
  isolation: SandboxIsolation,
  environment: Readonly<Record<string, string>>,
  worker: string,
  data: FunctionWorkerData,
): SandboxRuntime {
  if (isolation === 'thread') {
    const thread = new Worker(worker, {
      env: environment,
      workerData: data,
      stdout: true,
      stderr: true,
    });
    forwardLines(thread.stdout, process.stdout);
    forwardLines(thread.stderr, process.stderr);
    thread.unref();
    return {
      post: (invocation) => thread.postMessage(invocation),
      onMessage: (listener) => thread.on('message', listener),
      onError: (listener) => thread.on('error', listener),
      onExit: (listener) => thread.on('exit', listener),
      stop: async () => void (await thread.terminate()),
    };
  }
  const child: ChildProcess = fork(worker, [JSON.stringify(data)], {
    cwd: PROJECT_DIR,
    // Plain Node, with what the function's own environment asks of it (NODE_OPTIONS) and nothing of this process's.
    execArgv: [],
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
