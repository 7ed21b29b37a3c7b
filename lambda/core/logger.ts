import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The one logger of every handler: JSON lines. Its keys belong to one invocation: each wrapper
 * (`apiHandler`, `backgroundHandler`, `customResourceHandler`) sets them with `withInvocationKeys`,
 * so that a warm function never prints one request's keys on the next.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'imaging-platform' });

/**
 * Runs `run` with `keys` as the logger's only appended keys: whatever an earlier invocation (or a
 * record before this one) appended is dropped first, and what `run` appends goes when it ends,
 * however it ends. Invocations of one function never overlap (Lambda gives each execution
 * environment one at a time), so the shared logger is theirs in turn.
 */
export async function withInvocationKeys<T>(
  keys: Readonly<Record<string, unknown>>,
  run: () => Promise<T>,
): Promise<T> {
  logger.resetKeys();
  logger.appendKeys(definedOnly(keys));
  try {
    return await run();
  } finally {
    logger.resetKeys();
  }
}

function definedOnly(keys: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(keys).filter(([, value]) => value !== undefined));
}
