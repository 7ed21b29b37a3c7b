// Inside a worker thread: one local function's sandbox, as a Lambda execution environment is. Its
// process.env is the function's own environment; its modules are its own, loaded once (the cold
// start) and kept for every invocation after (warm), as in Lambda.
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

export interface Invocation {
  readonly id: number;
  /** The event as JSON, as Lambda hands it over. */
  readonly event: string;
  readonly requestId: string;
}

export type InvocationResult =
  | { readonly id: number; readonly result: string | undefined }
  | { readonly id: number; readonly error: { readonly name: string; readonly message: string } };

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

parentPort!.on('message', async ({ id, event, requestId }: Invocation) => {
  let answer: InvocationResult;
  try {
    const result = await handler(JSON.parse(event), { awsRequestId: requestId });
    answer = { id, result: result === undefined ? undefined : JSON.stringify(result) };
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    answer = { id, error: { name: error.name, message: error.message } };
  }
  parentPort!.postMessage(answer);
});
parentPort!.postMessage({ ready: true });
