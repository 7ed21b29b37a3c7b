import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Wraps a local service's request listener with a check made before the service answers, as
 * AWS authorizes a request before its service acts on it (local IAM, `local/iam/access-gate.ts`).
 */
export type RequestGuard = (listener: RequestListener) => RequestListener;

/** Puts `guard` in front of every request listener of `server`, when there is a guard. */
export function guardServer(server: Server, guard: RequestGuard | undefined): void {
  if (!guard) return;
  const listeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  for (const listener of listeners) server.on('request', guard(listener));
}
