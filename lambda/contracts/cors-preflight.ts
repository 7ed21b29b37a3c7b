import type { ApiOperation } from './handler-deployment';

/**
 * What the REST API's CORS preflights (`OPTIONS` on every resource) allow browsers of the web
 * origins, written once for the stack and local mode's front door.
 */
export const CORS_ALLOW_METHODS: readonly string[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** How long a browser may keep a preflight's answer. */
export const CORS_MAX_AGE_SECONDS = 3600;

/** Request headers a page may send: the token, the body's type, and each header an operation reads. */
export function corsAllowHeaders(operations: readonly ApiOperation[]): readonly string[] {
  const declared = operations.flatMap((o) => (o.parameters ?? []).filter((p) => p.in === 'header'));
  return [...new Set(['Authorization', 'Content-Type', ...declared.map((p) => p.name)])];
}
