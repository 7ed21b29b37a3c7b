import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Invocation, InvocationResult, SandboxFaultSpec, WorkerMessage } from './function-worker';
import { SandboxIsolation, SandboxRuntime, startSandboxRuntime } from './sandbox-runtime';

const PROJECT_DIR = path.join(__dirname, '..', '..');

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
   * Sandboxes it runs at once. As in Lambda, a sandbox serves one invocation at a time: an
   * invocation takes an idle sandbox, or starts one while fewer run; beyond this many, it waits
   * for one to be free, as if the function's concurrency were this.
   * @default 1
   */
  readonly maxSandboxes?: number;
  /**
   * Where each sandbox runs: a worker thread of this process, or a child process of its own.
   * @default 'thread'
   */
  readonly isolation?: SandboxIsolation;
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

/** One execution environment: the function's modules loaded in a runtime of their own. */
interface Sandbox {
  readonly runtime: SandboxRuntime;
  readonly ready: Promise<void>;
  readonly pending: Map<number, PendingCall>;
  /** Whether an invocation holds it. */
  busy: boolean;
  readonly tmp?: string;
}

/**
 * One Lambda function in local mode: its handler runs in a sandbox (a worker thread or a child
 * process) with its own environment and its own modules, as a Lambda execution environment does.
 * A sandbox starts at an invocation that finds none idle (a cold start), serves one invocation at
 * a time after that (warm), and is replaced after an invocation timed out, its runtime exited or
 * its module failed to load. Events and results cross as JSON. Up to `maxSandboxes` run at once,
 * each with its own /tmp.
 */
export class LocalFunction {
  private readonly sandboxes = new Set<Sandbox>();
  private nextId = 1;
  /** Numbers each sandbox's /tmp folder, never reused, so a retired sandbox cannot touch a new one's. */
  private nextSandbox = 1;
  private fault: { spec: SandboxFault; folder: string; struck: () => void } | undefined;
  private readonly struck = new Map<number, () => void>();
  /** Folders of the faults injected, removed when the function stops. */
  private readonly faultFolders: string[] = [];
  /** Invocations waiting for a sandbox to be free. */
  private readonly waiting: (() => void)[] = [];
  private stopped = false;

  constructor(private readonly options: LocalFunctionOptions) {}

  /**
   * Invokes the handler with `event`, as Lambda's Invoke does, and resolves with its result. An
   * aborted `signal` stops the invocation's sandbox, as if its machine went away.
   */
  async invoke<T = unknown>(event: unknown, options: { signal?: AbortSignal } = {}): Promise<T> {
    const fault = this.fault;
    const sandbox = await this.acquire();
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
          ...(fault && { fault: { spec: fault.spec, folder: fault.folder } }),
        };
        sandbox.runtime.post(invocation);
      });
    } finally {
      this.struck.delete(id);
      options.signal?.removeEventListener('abort', abandon);
      sandbox.busy = false;
      this.waiting.shift()?.();
    }
  }

  /**
   * Makes one invocation meet `fault` in its sandbox: the first, of those that start from now on,
   * to send the request it names. There the sandbox's runtime exits (as a Lambda environment that
   * crashes) or the handler is held. Invocations in other sandboxes at once cannot both meet it.
   */
  injectFault(spec: SandboxFault): InjectedFault {
    // Shared by every sandbox the fault is handed to, threads and processes alike.
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'local-function-fault-'));
    this.faultFolders.push(folder);
    let struck!: () => void;
    const reached = new Promise<void>((resolve) => (struck = resolve));
    this.fault = { spec, folder, struck };
    return {
      struck: reached,
      release: () => fs.writeFileSync(path.join(folder, 'released'), ''),
    };
  }

  /** Stops every sandbox; invocations under way fail, and so do those waiting for a sandbox. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.waiting.splice(0)) wake();
    await Promise.all([...this.sandboxes].map((sandbox) => this.stopSandbox(sandbox)));
    for (const folder of this.faultFolders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
  }

  /** An idle sandbox, a new one while fewer than the maximum run, else the first to be free. */
  private async acquire(): Promise<Sandbox> {
    for (;;) {
      if (this.stopped) throw new FunctionError('Sandbox.Stopped', 'the function was stopped');
      const idle = [...this.sandboxes].find((s) => !s.busy);
      const sandbox =
        idle ?? (this.sandboxes.size < (this.options.maxSandboxes ?? 1) ? this.startSandbox() : undefined);
      if (sandbox) {
        sandbox.busy = true;
        return sandbox;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
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
    const runtime = startSandboxRuntime(this.options.isolation ?? 'thread', environment, {
      entry: path.join(PROJECT_DIR, 'lambda', this.options.handler, 'index.ts'),
      setUp: this.options.setUp ?? [],
      missingModules: this.options.missingModules ?? [],
    });
    let started!: () => void;
    let failedToStart!: (err: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      started = resolve;
      failedToStart = reject;
    });
    // A sandbox that fails to start fails the invocation waiting for it, nothing else.
    ready.catch(() => undefined);
    const sandbox: Sandbox = { runtime, ready, pending: new Map(), busy: false, tmp };
    this.sandboxes.add(sandbox);
    const initFailed = (message: string) => {
      // The module failed to load (its environment is incomplete, say) or the sandbox crashed:
      // the next invocation starts a fresh one, as Lambda retries an init that failed.
      const failure = new FunctionError('Runtime.InitError', `${this.options.handler}: ${message}`);
      failedToStart(failure);
      this.retire(sandbox, failure);
    };
    runtime.onMessage((message: WorkerMessage) => {
      if ('ready' in message) return started();
      if ('initError' in message) return initFailed(message.initError);
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
    runtime.onError((err) => initFailed(err.message));
    runtime.onExit((code) => {
      // The runtime exited under its invocations (process.exit, a crash), as Lambda reports it.
      const failure = new FunctionError(
        'Runtime.ExitError',
        `${this.options.handler}: Runtime exited with error: exit status ${code}`,
      );
      failedToStart(failure);
      if (this.retire(sandbox, failure)) removeTmp(sandbox);
    });
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
    // One waiting for a sandbox may start the one that replaces it.
    this.waiting.shift()?.();
    return true;
  }

  private async stopSandbox(sandbox: Sandbox): Promise<void> {
    if (!this.retire(sandbox, new FunctionError('Sandbox.Stopped', 'the function was stopped'))) return;
    await sandbox.runtime.stop();
    removeTmp(sandbox);
  }
}

function removeTmp(sandbox: Sandbox): void {
  if (sandbox.tmp) fs.rmSync(sandbox.tmp, { recursive: true, force: true });
}
