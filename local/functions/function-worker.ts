// Inside a worker thread or a child process: one local function's sandbox, as a Lambda execution
// environment is. Its process.env is the function's own environment; its modules are its own,
// loaded once (the cold start) and kept for every invocation after (warm), as in Lambda.
import * as fs from 'node:fs';
import { ClientRequest } from 'node:http';
import Module from 'node:module';
import * as path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

export interface FunctionWorkerData {
  /**
   * The function's code, bundled: it runs the `setUp()` of local mode's stand-ins for AWS-only
   * checks, then loads the handler's index.ts and exports its `handler`.
   */
  readonly bundle: string;
  /** Packages its bundle leaves out, which Lambda's runtime does not have either. */
  readonly missingModules: readonly string[];
}

/**
 * Where an invocation meets a fault: at the `occurrence`-th request (from 1) that the handler
 * sends to `host` (host:port) and, if given, with the `x-amz-target` `target`. There the sandbox's
 * runtime exits, or the handler is held until the fault is released.
 */
export interface SandboxFaultSpec {
  readonly host: string;
  readonly target?: string;
  /** @default 1 */
  readonly occurrence?: number;
  readonly action: 'exit' | 'hold';
}

export interface Invocation {
  readonly id: number;
  /** The event as JSON, as Lambda hands it over. */
  readonly event: string;
  readonly requestId: string;
  /**
   * The fault this invocation may meet, and the folder every sandbox given it shares: the first
   * to meet it creates `taken` there, and `released` lets a held invocation go on.
   */
  readonly fault?: { readonly spec: SandboxFaultSpec; readonly folder: string };
}

export type InvocationResult =
  | { readonly id: number; readonly result: string | undefined }
  | { readonly id: number; readonly error: { readonly name: string; readonly message: string } };

export type WorkerMessage =
  | InvocationResult
  | { readonly ready: true }
  | { readonly faultStruck: number }
  | { readonly initError: string };

type Handler = (event: unknown, context: { awsRequestId: string }) => Promise<unknown>;

// A worker thread gets its data and talks through its port; a child process through argv and IPC.
const { bundle, missingModules } = (
  parentPort ? workerData : JSON.parse(process.argv[2])
) as FunctionWorkerData;
const post = (message: WorkerMessage) =>
  parentPort ? parentPort.postMessage(message) : process.send!(message);
const onInvocation = (listener: (invocation: Invocation) => void) =>
  parentPort ? parentPort.on('message', listener) : process.on('message', listener);
// A sandbox in a process of its own ends with local mode, even when local mode is killed.
if (!parentPort) process.on('disconnect', () => process.exit(0));

// What the deployed bundle leaves out cannot be loaded here either, as in Lambda.
const resolving = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
const resolve = resolving._resolveFilename;
resolving._resolveFilename = function (request, ...rest) {
  if (missingModules.some((name) => request === name || request.startsWith(`${name}/`))) {
    throw Object.assign(new Error(`Cannot find module '${request}'`), { code: 'MODULE_NOT_FOUND' });
  }
  return resolve.call(this, request, ...rest);
};
// A thread reads no NODE_OPTIONS: it maps stack traces to the TypeScript sources itself when the
// function's environment asks for it (--enable-source-maps, as Lambda's does); a process does so by itself.
if (parentPort && /--enable-source-maps\b/.test(process.env.NODE_OPTIONS ?? ''))
  process.setSourceMapsEnabled(true);
/* eslint-disable @typescript-eslint/no-require-imports -- loaded by path, after the environment is in place */
let handler: Handler;
try {
  handler = (require(bundle) as { handler: Handler }).handler;
} catch (err) {
  // A worker thread reports it as its error; a child process says why before it exits.
  if (parentPort) throw err;
  post({ initError: (err as Error).message });
  process.exit(1);
}
/* eslint-enable @typescript-eslint/no-require-imports */

// The fault of the invocation under way, met as the request it names is about to leave: the
// handler's runtime exits there, or waits until the fault is released.
let armed: { id: number; spec: SandboxFaultSpec; folder: string; seen: number } | undefined;
const pause = new Int32Array(new SharedArrayBuffer(4));
const meetFault = (request: ClientRequest) => {
  if (!armed || request.getHeader('host') !== armed.spec.host) return;
  if (armed.spec.target && request.getHeader('x-amz-target') !== armed.spec.target) return;
  if (++armed.seen < (armed.spec.occurrence ?? 1)) return;
  const { id, spec, folder } = armed;
  armed = undefined;
  try {
    // Another invocation, in this sandbox or another, met it first.
    fs.closeSync(fs.openSync(path.join(folder, 'taken'), 'wx'));
  } catch {
    return;
  }
  post({ faultStruck: id });
  if (spec.action === 'exit') process.exit(1);
  // Held where it stands, the whole runtime with it, as a stalled environment is.
  while (!fs.existsSync(path.join(folder, 'released'))) Atomics.wait(pause, 0, 0, 10);
};
const end = ClientRequest.prototype.end;
ClientRequest.prototype.end = function (this: ClientRequest, ...args: unknown[]) {
  meetFault(this);
  return (end as (...rest: unknown[]) => ClientRequest).apply(this, args);
} as typeof end;

onInvocation(async ({ id, event, requestId, fault }: Invocation) => {
  armed = fault && { id, ...fault, seen: 0 };
  let answer: InvocationResult;
  try {
    const result = await handler(JSON.parse(event), { awsRequestId: requestId });
    answer = { id, result: result === undefined ? undefined : JSON.stringify(result) };
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    answer = { id, error: { name: error.name, message: error.message } };
  }
  if (armed?.id === id) armed = undefined;
  post(answer);
});
post({ ready: true });
