import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Invocation, InvocationResult } from './function-worker';

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

/**
 * One Lambda function in local mode: its handler runs in a worker thread of its own, with its own
 * environment and its own modules, as a Lambda execution environment does. The sandbox starts at
 * the first invocation (the cold start), serves every invocation after, and starts afresh after
 * an invocation timed out or its module failed to load. Events and results cross as JSON.
 * Unlike Lambda, one sandbox serves concurrent invocations (Lambda would start more).
 */
export class LocalFunction {
  private worker: Worker | undefined;
  private ready: Promise<Worker> | undefined;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }
  >();
  private nextId = 1;

  constructor(private readonly options: LocalFunctionOptions) {}

  /** Invokes the handler with `event`, as Lambda's Invoke does, and resolves with its result. */
  async invoke<T = unknown>(event: unknown): Promise<T> {
    const worker = await this.start();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(
          new FunctionError(
            'Sandbox.Timedout',
            `Task timed out after ${this.options.timeoutSeconds.toFixed(2)} seconds`,
          ),
          id,
        );
        // As Lambda does, the sandbox that timed out is not reused.
        void this.stop();
      }, this.options.timeoutSeconds * 1000);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      const invocation: Invocation = { id, event: JSON.stringify(event), requestId: randomUUID() };
      worker.postMessage(invocation);
    });
  }

  /** Stops the sandbox; invocations under way fail. */
  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    if (worker) {
      this.failAll(new FunctionError('Sandbox.Stopped', 'the function was stopped'));
      await worker.terminate();
    }
  }

  private start(): Promise<Worker> {
    this.ready ??= new Promise<Worker>((resolve, reject) => {
      const worker = new Worker(WORKER, {
        // TypeScript sources, as tsx runs them in the rest of local mode.
        execArgv: ['--require', require.resolve('tsx/cjs', { paths: [PROJECT_DIR] })],
        env: { ...this.options.environment },
        workerData: {
          entry: path.join(PROJECT_DIR, 'lambda', this.options.handler, 'index.ts'),
          setUp: this.options.setUp ?? [],
          missingModules: this.options.missingModules ?? [],
        },
      });
      this.worker = worker;
      worker.on('message', (message: InvocationResult | { ready: true }) => {
        if ('ready' in message) return resolve(worker);
        const call = this.pending.get(message.id);
        if (!call) return;
        this.pending.delete(message.id);
        clearTimeout(call.timer);
        if ('error' in message) call.reject(new FunctionError(message.error.name, message.error.message));
        else call.resolve(message.result === undefined ? undefined : JSON.parse(message.result));
      });
      worker.on('error', (err) => {
        // The module failed to load (its environment is incomplete, say) or the sandbox crashed:
        // the next invocation starts a fresh one, as Lambda retries an init that failed.
        const failure = new FunctionError('Runtime.InitError', `${this.options.handler}: ${err.message}`);
        reject(failure);
        this.failAll(failure);
        if (this.worker === worker) {
          this.worker = undefined;
          this.ready = undefined;
        }
      });
      worker.unref();
    });
    return this.ready;
  }

  private fail(err: Error, id: number): void {
    const call = this.pending.get(id);
    if (!call) return;
    this.pending.delete(id);
    clearTimeout(call.timer);
    call.reject(err);
  }

  private failAll(err: Error): void {
    for (const id of [...this.pending.keys()]) this.fail(err, id);
  }
}
