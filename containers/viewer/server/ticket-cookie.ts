import type { IncomingMessage } from 'node:http';
import { viewerPaths } from './protocol';
import type { ViewerSession } from './viewer-sessions';

const COOKIE = 'viewer-ticket';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The ticket as a cookie: sent only to the session's own routes, never readable by script, never
 * sent by another site's page, and gone when the session's credential expires. It is Secure
 * except on loopback, where local mode serves plain HTTP.
 */
export function ticketCookie(req: IncomingMessage, session: ViewerSession, ticket: string): string {
  const hostname = (req.headers.host ?? '').replace(/:\d+$/, '');
  const secure = !LOOPBACK.has(hostname) || req.headers['x-forwarded-proto'] === 'https';
  return [
    `${COOKIE}=${ticket}`,
    `Path=${viewerPaths.scope(session.sessionId)}`,
    `Expires=${new Date(session.credential.expiresAt * 1000).toUTCString()}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

export function ticketFromCookies(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return value.join('=');
  }
  return undefined;
}
