// Inside a worker thread: one local function's sandbox, as a Lambda execution environment is. Its
// process.env is the function's own environment; its modules are its own, loaded once (the cold
// start) and kept for every invocation after (warm), as in Lambda.
import { ClientRequest } from 'node:http';
import Module from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

interface FunctionWorkerData {
  /** The handler's index.ts. */
  readonly entry: string;
  /** Modules whose `setUp()` runs before the handler loads: local mode's stand-ins for AWS-only checks. */
  readonly setUp: readonly string[];
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
  /** [0] set to 1 by the parent to release a held invocation; [1] set by the invocation that meets it. */
  readonly fault?: { readonly spec: SandboxFaultSpec; readonly flag: Int32Array };
}

export type InvocationResult =
  | { readonly id: number; readonly result: string | undefined }
  | { readonly id: number; readonly error: { readonly name: string; readonly message: string } };

export type WorkerMessage = InvocationResult | { readonly ready: true } | { readonly faultStruck: number };

type Handler = (event: unknown, context: { awsRequestId: string }) => Promise<unknown>;

const { entry, setUp, missingModules } = workerData as FunctionWorkerData;

// What the deployed bundle leaves out cannot be loaded here either, as in Lambda.
const resolving = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
const resolve = resolving._resolveFilename;
resolving._resolveFilename = function (request, ...rest) {
  if (missingModules.some((name) => request === name || request.startsWith(`${name}/`))) {
    throw Object.assign(new Error(`Cannot find module '${request}'`), { code: 'MODULE_NOT_FOUND' });
  }
  return resolve.call(this, request, ...rest);
};
/* eslint-disable @typescript-eslint/no-require-imports -- loaded by path, after the environment is in place */
for (const module of setUp) (require(module) as { setUp(): void }).setUp();
const { handler } = require(entry) as { handler: Handler };
/* eslint-enable @typescript-eslint/no-require-imports */

// The fault of the invocation under way, met as the request it names is about to leave: the
// handler's runtime exits there, or waits until the fault is released.
let armed: { id: number; spec: SandboxFaultSpec; flag: Int32Array; seen: number } | undefined;
const meetFault = (request: ClientRequest) => {
  if (!armed || request.getHeader('host') !== armed.spec.host) return;
  if (armed.spec.target && request.getHeader('x-amz-target') !== armed.spec.target) return;
  if (++armed.seen < (armed.spec.occurrence ?? 1)) return;
  const { id, spec, flag } = armed;
  armed = undefined;
  // Another invocation, in this sandbox or another, met it first.
  if (Atomics.compareExchange(flag, 1, 0, 1) !== 0) return;
  parentPort!.postMessage({ faultStruck: id });
  if (spec.action === 'exit') process.exit(1);
  while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0);
};
const end = ClientRequest.prototype.end;
ClientRequest.prototype.end = function (this: ClientRequest, ...args: unknown[]) {
  meetFault(this);
  return (end as (...rest: unknown[]) => ClientRequest).apply(this, args);
} as typeof end;

parentPort!.on('message', async ({ id, event, requestId, fault }: Invocation) => {
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
  parentPort!.postMessage(answer);
});
parentPort!.postMessage({ ready: true });
