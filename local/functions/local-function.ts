import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Invocation, InvocationResult, SandboxFaultSpec, WorkerMessage } from './function-worker';

const PROJECT_DIR = path.join(__dirname, '..', '..');
const WORKER = path.join(__dirname, 'function-worker.ts');

export interface LocalFunctionOptions {
  /** The folder under `lambda/` that holds the handler's `index.ts`. */
  readonly handler: string;
  /** The function's whole environment: nothing of this process's is passed on. */
  readonly environment: Readonly<Record<string, string>>;
  /** Seconds an invocation may run before the function's sandbox is stopped, as Lambda stops it. */
  readonly timeoutSeconds: number;
  /**
   * Modules whose `setUp()` runs in the sandbox before the handler loads.
   * @default - none
   */
  readonly setUp?: readonly string[];
  /**
   * Packages that the deployed bundle leaves out (`externalModules`): loading one fails, as in Lambda.
   * @default - none
   */
  readonly missingModules?: readonly string[];
  /**
   * Sandboxes it runs at once. An invocation takes an idle sandbox, or starts one while fewer run;
   * beyond this many, invocations share the least busy one.
   * @default 1
   */
  readonly maxSandboxes?: number;
  /**
   * Variables of `environment` that name the function's /tmp. Each sandbox gets its own empty
   * folder under their value (and as TMPDIR), as each Lambda execution environment has its own.
   * @default - none: sandboxes share this machine's temporary folder
   */
  readonly tmpVariables?: readonly string[];
}

/** What an invocation ended with when the handler threw, or the sandbox failed or timed out. */
export class FunctionError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
    this.name = errorType;
  }
}

/** A fault for invocations to come, for tests of what survives a sandbox that dies mid-way. */
export type SandboxFault = SandboxFaultSpec;

export interface InjectedFault {
  /** Resolves when an invocation reached the request the fault waits for. */
  readonly struck: Promise<void>;
  /** Lets an invocation held by a `hold` fault go on. */
  release(): void;
}

interface PendingCall {
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** One execution environment: a worker thread with the function's modules loaded. */
interface Sandbox {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  readonly pending: Map<number, PendingCall>;
  /** Invocations given to it, started or not. */
  busy: number;
  readonly tmp?: string;
}

/**
 * One Lambda function in local mode: its handler runs in a worker thread of its own, with its own
 * environment and its own modules, as a Lambda execution environment does. A sandbox starts at
 * an invocation that finds none idle (a cold start), serves invocations after (warm), and is
 * replaced after an invocation timed out, its runtime exited or its module failed to load.
 * Events and results cross as JSON. Up to `maxSandboxes` run at once, each with its own /tmp.
 */
export class LocalFunction {
  private readonly sandboxes = new Set<Sandbox>();
  private nextId = 1;
  /** Numbers each sandbox's /tmp folder, never reused, so a retired sandbox cannot touch a new one's. */
  private nextSandbox = 1;
  private fault: { spec: SandboxFault; flag: Int32Array; struck: () => void } | undefined;
  private readonly struck = new Map<number, () => void>();

  constructor(private readonly options: LocalFunctionOptions) {}

  /**
   * Invokes the handler with `event`, as Lambda's Invoke does, and resolves with its result. An
   * aborted `signal` stops the invocation's sandbox, as if its machine went away.
   */
  async invoke<T = unknown>(event: unknown, options: { signal?: AbortSignal } = {}): Promise<T> {
    const sandbox = this.sandboxFor();
    sandbox.busy++;
    const fault = this.fault;
    const id = this.nextId++;
    const abandon = () => void this.stopSandbox(sandbox);
    try {
      await sandbox.ready;
      if (fault) this.struck.set(id, fault.struck);
      return await new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.fail(
            sandbox,
            id,
            new FunctionError(
              'Sandbox.Timedout',
              `Task timed out after ${this.options.timeoutSeconds.toFixed(2)} seconds`,
            ),
          );
          // As Lambda does, the sandbox that timed out is not reused.
          void this.stopSandbox(sandbox);
        }, this.options.timeoutSeconds * 1000);
        sandbox.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
        options.signal?.addEventListener('abort', abandon, { once: true });
        if (options.signal?.aborted) abandon();
        const invocation: Invocation = {
          id,
          event: JSON.stringify(event),
          requestId: randomUUID(),
          ...(fault && { fault: { spec: fault.spec, flag: fault.flag } }),
        };
        sandbox.worker.postMessage(invocation);
      });
    } finally {
      sandbox.busy--;
      this.struck.delete(id);
      options.signal?.removeEventListener('abort', abandon);
    }
  }

  /**
   * Makes one invocation meet `fault` in its sandbox: the first, of those that start from now on,
   * to send the request it names. There the sandbox's runtime exits (as a Lambda environment that
   * crashes) or the handler is held. Invocations in other sandboxes at once cannot both meet it.
   */
  injectFault(spec: SandboxFault): InjectedFault {
    // [released, taken]: shared by every sandbox the fault is handed to.
    const flag = new Int32Array(new SharedArrayBuffer(8));
    let struck!: () => void;
    const reached = new Promise<void>((resolve) => (struck = resolve));
    this.fault = { spec, flag, struck };
    return {
      struck: reached,
      release: () => {
        Atomics.store(flag, 0, 1);
        Atomics.notify(flag, 0);
      },
    };
  }

  /** Stops every sandbox; invocations under way fail. */
  async stop(): Promise<void> {
    await Promise.all([...this.sandboxes].map((sandbox) => this.stopSandbox(sandbox)));
  }

  /** An idle sandbox, a new one while fewer than the maximum run, else the least busy. */
  private sandboxFor(): Sandbox {
    const running = [...this.sandboxes];
    const idle = running.find((s) => s.busy === 0);
    if (idle) return idle;
    if (running.length < (this.options.maxSandboxes ?? 1)) return this.startSandbox();
    return running.reduce((least, s) => (s.busy < least.busy ? s : least));
  }

  private startSandbox(): Sandbox {
    const environment = { ...this.options.environment };
    const variables = this.options.tmpVariables ?? [];
    let tmp: string | undefined;
    if (variables.length > 0) {
      // A fresh environment starts with an empty /tmp.
      tmp = path.join(environment[variables[0]], `sandbox-${this.nextSandbox++}`);
      fs.mkdirSync(tmp, { recursive: true });
      for (const name of [...variables, 'TMPDIR']) environment[name] = tmp;
    }
    const worker = new Worker(WORKER, {
      // TypeScript sources, as tsx runs them in the rest of local mode.
      execArgv: ['--require', require.resolve('tsx/cjs', { paths: [PROJECT_DIR] })],
      env: environment,
      workerData: {
        entry: path.join(PROJECT_DIR, 'lambda', this.options.handler, 'index.ts'),
        setUp: this.options.setUp ?? [],
        missingModules: this.options.missingModules ?? [],
      },
    });
    let started!: () => void;
    let failedToStart!: (err: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      started = resolve;
      failedToStart = reject;
    });
    // A sandbox that fails to start fails the invocation waiting for it, nothing else.
    ready.catch(() => undefined);
    const sandbox: Sandbox = { worker, ready, pending: new Map(), busy: 0, tmp };
    this.sandboxes.add(sandbox);
    worker.on('message', (message: WorkerMessage) => {
      if ('ready' in message) return started();
      if ('faultStruck' in message) {
        const struck = this.struck.get(message.faultStruck);
        // Met once: invocations after this one run as usual.
        if (struck && this.fault?.struck === struck) this.fault = undefined;
        struck?.();
        this.struck.delete(message.faultStruck);
        return;
      }
      this.settle(sandbox, message);
    });
    worker.on('error', (err) => {
      // The module failed to load (its environment is incomplete, say) or the sandbox crashed:
      // the next invocation starts a fresh one, as Lambda retries an init that failed.
      const failure = new FunctionError('Runtime.InitError', `${this.options.handler}: ${err.message}`);
      failedToStart(failure);
      this.retire(sandbox, failure);
    });
    worker.on('exit', (code) => {
      // The runtime exited under its invocations (process.exit, a crash), as Lambda reports it.
      const failure = new FunctionError(
        'Runtime.ExitError',
        `${this.options.handler}: Runtime exited with error: exit status ${code}`,
      );
      failedToStart(failure);
      if (this.retire(sandbox, failure)) removeTmp(sandbox);
    });
    worker.unref();
    return sandbox;
  }

  private settle(sandbox: Sandbox, message: InvocationResult): void {
    const call = sandbox.pending.get(message.id);
    if (!call) return;
    sandbox.pending.delete(message.id);
    clearTimeout(call.timer);
    if ('error' in message) call.reject(new FunctionError(message.error.name, message.error.message));
    else call.resolve(message.result === undefined ? undefined : JSON.parse(message.result));
  }

  private fail(sandbox: Sandbox, id: number, err: Error): void {
    const call = sandbox.pending.get(id);
    if (!call) return;
    sandbox.pending.delete(id);
    clearTimeout(call.timer);
    call.reject(err);
  }

  /** Takes a sandbox out of service, failing what it still had to answer; false if it was out already. */
  private retire(sandbox: Sandbox, err: Error): boolean {
    if (!this.sandboxes.delete(sandbox)) return false;
    for (const id of [...sandbox.pending.keys()]) this.fail(sandbox, id, err);
    return true;
  }

  private async stopSandbox(sandbox: Sandbox): Promise<void> {
    if (!this.retire(sandbox, new FunctionError('Sandbox.Stopped', 'the function was stopped'))) return;
    await sandbox.worker.terminate();
    removeTmp(sandbox);
  }
}

function removeTmp(sandbox: Sandbox): void {
  if (sandbox.tmp) fs.rmSync(sandbox.tmp, { recursive: true, force: true });
}
