import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { CredentialRefused, verifySessionCredential } from '../../../lambda/contracts/session-credential';
import { VIEWER_HOST } from '../../../lambda/contracts/viewer-host';
import { answerPageRoute, ID } from '../server/page-routes';
import { SESSION_NOT_HERE_STATUS } from '../server/protocol';
import { SECURITY_HEADERS } from '../server/viewer-page';
import type { HostSample } from './host-metrics';
import { ProxyTarget, proxyRequest, proxyUpgrade } from './request-proxy';
import {
  HOST_TOKEN_HEADER,
  SESSION_FRAMES_PORT,
  SESSION_VIEWER_PORT,
  SessionContainer,
  SessionContainers,
} from './session-containers';

export interface SupervisorOptions {
  /** @default VIEWER_HOST.port */
  readonly port?: number;
  /** @default '0.0.0.0' */
  readonly host?: string;
  /** Credentials are checked before a session's viewer is started for them. */
  readonly publicKeyPem: string;
  /** The viewer's public origin: credentials for another are refused. */
  readonly origin: string;
  readonly sessionsPerHost: number;
  readonly containers: SessionContainers;
  /** Session viewers kept started ahead. */
  readonly warmSessionViewers: number;
  /** Seconds a full or draining host asks a new session to wait before trying again. @default 2 */
  readonly retryAfterSeconds?: number;
  readonly log?: (message: string) => void;
}

export interface HostStatus {
  readonly sessions: number;
  readonly freeSlots: number;
  readonly draining: boolean;
}

export interface Supervisor {
  readonly url: string;
  status(): HostStatus;
  /** Refuses new sessions from now on; settles once the last session held has ended. */
  drain(): Promise<void>;
  /** What the host's metrics publish: counts now, and what happened since the last sample. */
  sample(): Promise<HostSample>;
  /** Stops answering and removes every session viewer. */
  stop(): Promise<void>;
}

const CREDENTIAL = new RegExp(`^/sessions/(${ID})/credential$`);
const SESSION_ROUTE = new RegExp(`^/sessions/(${ID})/`);

interface HeldSession {
  readonly viewer: Promise<SessionContainer>;
}

/**
 * A viewer host's supervisor, on the port the load balancer sends to. It answers the health check
 * and pings itself, serves the page and the client, and hands every route of a session to that
 * session's own viewer, a container it starts on the session's credential exchange (checking the
 * credential first, so that no slot is taken for a refused one). A full or draining host refuses
 * new sessions with 503 and Retry-After; a route of a session it does not hold answers
 * `SESSION_NOT_HERE_STATUS`, for the client to exchange its credential again.
 */
export async function startSupervisor(options: SupervisorOptions): Promise<Supervisor> {
  const log = options.log ?? ((message: string) => console.error(message));
  const held = new Map<string, HeldSession>();
  const spares: Promise<SessionContainer>[] = [];
  let draining = false;
  let startFailures = 0;
  const drained: (() => void)[] = [];

  const status = (): HostStatus => ({
    sessions: held.size,
    freeSlots: draining ? 0 : Math.max(0, options.sessionsPerHost - held.size),
    draining,
  });

  const checkDrained = () => {
    if (draining && held.size === 0) for (const done of drained.splice(0)) done();
  };

  /** Starts session viewers ahead, up to the warm count, while the host has slots for them. */
  const keepWarm = () => {
    while (
      !draining &&
      spares.length < options.warmSessionViewers &&
      held.size + spares.length < options.sessionsPerHost + options.warmSessionViewers
    ) {
      const spare = options.containers.start();
      spares.push(spare);
      spare.then(
        (viewer) =>
          void viewer.exited.then(() => {
            // A spare that stopped before a session took it is replaced.
            const index = spares.indexOf(spare);
            if (index >= 0) {
              spares.splice(index, 1);
              keepWarm();
            }
          }),
        (err: Error) => {
          log(`a session viewer started ahead failed: ${err.message}`);
          const index = spares.indexOf(spare);
          if (index >= 0) spares.splice(index, 1);
        },
      );
    }
  };

  /** A session viewer for a new session: one started ahead if there is one. */
  const takeViewer = (): Promise<SessionContainer> => {
    const spare = spares.shift();
    const viewer = spare ? spare.catch(() => options.containers.start()) : options.containers.start();
    keepWarm();
    return viewer;
  };

  const hold = (sessionId: string): HeldSession => {
    const session: HeldSession = { viewer: takeViewer() };
    held.set(sessionId, session);
    const release = () => {
      if (held.get(sessionId) === session) held.delete(sessionId);
      checkDrained();
      keepWarm();
    };
    session.viewer.then(
      (viewer) =>
        void viewer.exited.then(({ exitCode, oomKilled }) => {
          if (exitCode !== 0) {
            startFailures++;
            log(
              `session ${sessionId}: its viewer stopped with ${exitCode}${oomKilled ? ' (out of memory)' : ''}`,
            );
          }
          release();
        }),
      (err: Error) => {
        startFailures++;
        log(`session ${sessionId}: its viewer did not start: ${err.message}`);
        release();
      },
    );
    return session;
  };

  const server = http.createServer((req, res) => {
    route(req, res).catch((err: Error) => {
      log(`supervisor: ${req.method} ${new URL(req.url ?? '/', 'http://host').pathname}: ${err.stack}`);
      if (!res.headersSent) answer(res, 500, { error: 'the viewer host failed on this request' });
      else res.destroy();
    });
  });

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { pathname } = new URL(req.url ?? '/', 'http://host');
    let match: RegExpExecArray | null;
    if (pathname === VIEWER_HOST.healthPath && req.method === 'GET') {
      const now = status();
      return answer(res, now.freeSlots > 0 ? 200 : 503, now);
    }
    if (await answerPageRoute(req, res, pathname)) return;
    if ((match = CREDENTIAL.exec(pathname)) && req.method === 'POST') {
      return admit(req, res, match[1]);
    }
    if ((match = SESSION_ROUTE.exec(pathname))) {
      const viewer = await heldViewer(match[1]);
      if (!viewer) return notHere(res);
      return proxyRequest(req, res, targetOf(viewer));
    }
    return answer(res, 404, { error: 'no such page' });
  }

  /** The credential exchange: on the session's viewer, started for it if the host has room. */
  async function admit(req: http.IncomingMessage, res: http.ServerResponse, sessionId: string) {
    let session = held.get(sessionId);
    if (!session) {
      const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
      if (!bearer) {
        req.resume();
        return answer(res, 401, { error: 'the session credential is missing (Authorization: Bearer)' });
      }
      try {
        const credential = verifySessionCredential(bearer[1], options.publicKeyPem, {
          sessionId,
          nowSeconds: Math.floor(Date.now() / 1000),
        });
        if (credential.viewerOrigin !== options.origin) {
          throw new CredentialRefused('otherViewer', 'the session credential is for another viewer');
        }
      } catch (err) {
        req.resume();
        const words = err instanceof CredentialRefused ? err.message : 'the session credential is malformed';
        return answer(res, 403, { error: words });
      }
      if (status().freeSlots === 0) {
        req.resume();
        const retryAfter = String(options.retryAfterSeconds ?? 2);
        return answer(
          res,
          503,
          {
            error: draining
              ? 'this viewer host is stopping: try again'
              : 'this viewer host is full: try again',
          },
          { 'retry-after': retryAfter },
        );
      }
      session = hold(sessionId);
    }
    let viewer: SessionContainer;
    try {
      viewer = await session.viewer;
    } catch {
      req.resume();
      return answer(
        res,
        503,
        { error: "the session's viewer did not start: try again" },
        { 'retry-after': '1' },
      );
    }
    proxyRequest(req, res, targetOf(viewer));
  }

  async function heldViewer(sessionId: string): Promise<SessionContainer | undefined> {
    const session = held.get(sessionId);
    return session?.viewer.catch(() => undefined);
  }

  function notHere(res: http.ServerResponse) {
    answer(res, SESSION_NOT_HERE_STATUS, {
      error: 'this viewer host does not hold the session: exchange its credential again',
    });
  }

  /** Sockets handed on to viewers: the server no longer closes them itself. */
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    const { pathname } = new URL(req.url ?? '/', 'http://host');
    const match = SESSION_ROUTE.exec(pathname);
    const refuse = (code: number, reason: string) => {
      socket.end(
        `HTTP/1.1 ${code} ${http.STATUS_CODES[code]}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${reason}`,
      );
    };
    if (!match) return refuse(404, 'no such socket');
    void heldViewer(match[1]).then((viewer) => {
      if (viewer) proxyUpgrade(req, socket, head, targetOf(viewer));
      else refuse(SESSION_NOT_HERE_STATUS, 'this viewer host does not hold the session');
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host ?? '0.0.0.0', port: options.port ?? VIEWER_HOST.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  keepWarm();
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '0.0.0.0';
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    status,
    drain: () => {
      if (!draining) {
        draining = true;
        for (const spare of spares.splice(0))
          void spare.then(
            (viewer) => viewer.remove(),
            () => undefined,
          );
        log(`draining: ${held.size} sessions to end`);
      }
      const done = new Promise<void>((resolve) => drained.push(resolve));
      checkDrained();
      return done;
    },
    sample: async () => {
      const viewers = await Promise.all(
        [...held.values()].map((session) => session.viewer.catch(() => undefined)),
      );
      const frames = await Promise.all(
        viewers.map((viewer) =>
          viewer
            ? fetch(`http://${viewer.address}:${SESSION_FRAMES_PORT}/frames`, {
                method: 'POST',
                headers: { [HOST_TOKEN_HEADER]: viewer.token },
                signal: AbortSignal.timeout(2000),
              }).then(
                (response) => response.json() as Promise<number[]>,
                () => [],
              )
            : [],
        ),
      );
      const failures = startFailures;
      startFailures = 0;
      return { ...status(), sessionStartFailures: failures, frameMilliseconds: frames.flat() };
    },
    stop: async () => {
      draining = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of upgraded) socket.destroy();
      });
      await options.containers.close();
    },
  };
}

/** Where a session's routes go, with the secret its viewer asks for. */
function targetOf(viewer: SessionContainer): ProxyTarget {
  return { host: viewer.address, port: SESSION_VIEWER_PORT, headers: { [HOST_TOKEN_HEADER]: viewer.token } };
}

function answer(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(JSON.stringify(body));
}
