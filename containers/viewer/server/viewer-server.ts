import { timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { CredentialRefused } from '../../../lambda/contracts/session-credential';
import { CLOSE_CODES, ServerMessage, SOCKET_KEEPALIVE_MS } from './protocol';
import { clientBundle } from './deploy';
import { SessionSocket } from './session-socket';
import { SessionImages } from './session-images';
import { ticketCookie, ticketFromCookies } from './ticket-cookie';
import type { VolumeEngine } from './viewer-engines';
import { answerPageRoute, ID } from './page-routes';
import { SECURITY_HEADERS } from './viewer-page';
import { ViewerSession, ViewerSessions } from './viewer-sessions';

export interface ViewerServerOptions {
  readonly port: number;
  readonly host: string;
  /** The public half of the key the API signs session credentials with. */
  readonly publicKeyPem: string;
  readonly volumes: VolumeEngine;
  /**
   * The viewer's public origin (`https://viewer.example.org`): credentials for another are refused.
   * @default - any
   */
  readonly origin?: string;
  /** @default - no reports: see `ViewerSessionsOptions.reportUrl` */
  readonly reportUrl?: (sessionId: string) => string;
  /** Where failures that no reader sees are told. @default console.error */
  readonly log?: (message: string) => void;
  /**
   * Holds one session only, the first it admits: a viewer host runs each session in a viewer of
   * its own. A credential of any other session is refused. @default false
   */
  readonly oneSession?: boolean;
  /** Told when the sockets open on a session change in number, and when the session expires. */
  readonly onSessionActivity?: (activity: SessionActivity) => void;
  /** Told of every frame sent: milliseconds from its view request's arrival. */
  readonly onFrame?: (milliseconds: number) => void;
  /**
   * A header every request and socket but `/ping` must carry with this value: what a viewer
   * host's supervisor adds, so that a viewer answers nothing that did not come through it.
   * @default - none asked for
   */
  readonly requiredHeader?: { readonly name: string; readonly value: string };
}

export interface SessionActivity {
  readonly sessionId: string;
  readonly openSockets: number;
  /** The session's credential expired: the session is over. */
  readonly expired: boolean;
}

export interface ViewerServer {
  readonly url: string;
  /** Sessions held, with the bytes of their volumes: what a session costs in memory. */
  memory(): Promise<{ sessionId: string; volumeBytes: number }[]>;
  stop(): Promise<void>;
}

const ROUTES = {
  credential: new RegExp(`^/sessions/(${ID})/credential$`),
  ticket: new RegExp(`^/sessions/(${ID})/ticket$`),
  socket: new RegExp(`^/sessions/(${ID})/socket$`),
  slideSource: new RegExp(`^/sessions/(${ID})/slides/(${ID})$`),
  /** Level and `column_row` as given: the slides module says what a malformed one is. */
  tile: new RegExp(`^/sessions/(${ID})/slides/(${ID})/tiles/([^/]{1,16})/([^/]{1,32})$`),
};

/**
 * The viewer: serves each session's page and client, exchanges the session's credential for a
 * ticket cookie, and renders the session's volumes over its WebSocket, serving its slides' tiles.
 * Every route but the page and the client script checks the ticket; an image not in the session
 * is reached by none.
 */
export async function startViewerServer(options: ViewerServerOptions): Promise<ViewerServer> {
  const log = options.log ?? ((message: string) => console.error(message));
  const images = new Map<string, SessionImages>();
  const sockets = new Map<string, Set<SessionSocket>>();
  const broadcast = (sessionId: string, message: ServerMessage) => {
    for (const socket of sockets.get(sessionId) ?? []) socket.send(message);
  };
  const sessions = new ViewerSessions({
    publicKeyPem: options.publicKeyPem,
    origin: options.origin,
    reportUrl: options.reportUrl,
    onExpired: (session) => {
      for (const socket of sockets.get(session.sessionId) ?? []) {
        socket.close(CLOSE_CODES.expired, 'the session has expired: start a new one to go on');
      }
      sockets.delete(session.sessionId);
      images.get(session.sessionId)?.close();
      images.delete(session.sessionId);
      options.onSessionActivity?.({ sessionId: session.sessionId, openSockets: 0, expired: true });
    },
    onExtended: (session) =>
      broadcast(session.sessionId, { type: 'expiry', expiresAt: session.credential.expiresAt }),
  });
  const report = (session: ViewerSession, state: 'Running' | 'Active' | 'Failed', reason?: string) =>
    sessions
      .report(session, state, reason)
      .catch((err: Error) => log(`session ${session.sessionId}: ${err.message}`));
  const imagesOf = (session: ViewerSession): SessionImages => {
    let held = images.get(session.sessionId);
    if (!held) {
      held = new SessionImages(
        () => session.credential,
        options.volumes,
        (message) => broadcast(session.sessionId, message),
        // The session fails only when nothing of it can be shown; otherwise the reader sees the error.
        (image, err) => {
          if (held!.allFailed())
            void report(session, 'Failed', `image ${image.id} could not be read: ${err.message}`);
        },
      );
      images.set(session.sessionId, held);
    }
    return held;
  };
  // Bundled before the first page is served, and a bundling error stops the start.
  await clientBundle();

  const throughHost = (req: http.IncomingMessage) => {
    if (!options.requiredHeader) return true;
    const given = Buffer.from(String(req.headers[options.requiredHeader.name] ?? ''));
    const expected = Buffer.from(options.requiredHeader.value);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://viewer');
    if (pathname !== '/ping' && !throughHost(req)) {
      req.resume();
      return answer(res, 403, { error: 'this viewer answers its host only' });
    }
    route(req, res).catch((err: Error) => {
      log(`viewer: ${req.method} ${new URL(req.url ?? '/', 'http://viewer').pathname}: ${err.stack}`);
      if (!res.headersSent) answer(res, 500, { error: 'the viewer failed on this request' });
      else res.destroy();
    });
  });

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { pathname } = new URL(req.url ?? '/', 'http://viewer');
    let match: RegExpExecArray | null;
    if (await answerPageRoute(req, res, pathname)) return;
    if ((match = ROUTES.credential.exec(pathname)) && req.method === 'POST') {
      return exchangeCredential(req, res, match[1]);
    }
    if ((match = ROUTES.ticket.exec(pathname)) && req.method === 'POST') {
      const session = ticketed(req, res, match[1]);
      if (!session) return;
      // Keeps the ticket, with the expiry of the session's newest credential.
      const ticket = ticketFromCookies(req.headers.cookie)!;
      return answer(
        res,
        200,
        { expiresAt: session.credential.expiresAt },
        ticketCookie(req, session, ticket),
      );
    }
    if ((match = ROUTES.slideSource.exec(pathname)) && req.method === 'GET') {
      const session = ticketed(req, res, match[1]);
      if (!session) return;
      return send(res, await imagesOf(session).slides.tileSource(match[2]));
    }
    if ((match = ROUTES.tile.exec(pathname)) && req.method === 'GET') {
      const session = ticketed(req, res, match[1]);
      if (!session) return;
      return send(res, await imagesOf(session).slides.tile(match[2], match[3], match[4]));
    }
    return answer(res, 404, { error: 'no such page' });
  }

  /** The one session of a viewer that holds only one, once admitted. */
  let admitted: string | undefined;

  async function exchangeCredential(req: http.IncomingMessage, res: http.ServerResponse, sessionId: string) {
    // The body is not read: the credential comes in the header only.
    req.resume();
    const header = req.headers.authorization ?? '';
    const bearer = /^Bearer (\S+)$/.exec(header);
    if (!bearer)
      return answer(res, 401, { error: 'the session credential is missing (Authorization: Bearer)' });
    if (options.oneSession && admitted !== undefined && admitted !== sessionId) {
      return answer(res, 403, { error: 'this viewer holds another session' });
    }
    try {
      const { session, ticket } = sessions.admit(sessionId, bearer[1]);
      if (options.oneSession) admitted = sessionId;
      const openSockets = sockets.get(sessionId)?.size ?? 0;
      options.onSessionActivity?.({ sessionId, openSockets, expired: false });
      return answer(
        res,
        200,
        { expiresAt: session.credential.expiresAt, images: imagesOf(session).summaries() },
        ticketCookie(req, session, ticket),
      );
    } catch (err) {
      if (err instanceof CredentialRefused) return answer(res, 403, { error: err.message });
      // Bad base64 or JSON inside a validly shaped token.
      return answer(res, 403, { error: 'the session credential is malformed' });
    }
  }

  /** The session the request's ticket opens; answers 401 otherwise. */
  function ticketed(req: http.IncomingMessage, res: http.ServerResponse, sessionId: string) {
    const session = sessions.byTicket(sessionId, ticketFromCookies(req.headers.cookie));
    if (!session) answer(res, 401, { error: 'no valid ticket for this session: open the session again' });
    return session;
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const { pathname } = new URL(req.url ?? '/', 'http://viewer');
    const match = ROUTES.socket.exec(pathname);
    const refuse = (status: number, reason: string) => {
      socket.end(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${reason}`,
      );
    };
    if (!match) return refuse(404, 'no such socket');
    if (!throughHost(req)) return refuse(403, 'this viewer answers its host only');
    // A page of another site cannot open a reader's socket, whatever its cookies.
    const origin = req.headers.origin;
    if (origin && origin !== `http://${req.headers.host}` && origin !== `https://${req.headers.host}`) {
      return refuse(403, 'the socket is opened from another site');
    }
    const session = sessions.byTicket(match[1], ticketFromCookies(req.headers.cookie));
    if (!session) return refuse(401, 'no valid ticket for this session: open the session again');
    wss.handleUpgrade(req, socket, head, (ws) => connect(ws, session));
  });

  function connect(ws: WebSocket, session: ViewerSession): void {
    const held = imagesOf(session);
    const socket = new SessionSocket(ws, held, {
      onInput: () => void report(session, 'Active'),
      onBadMessage: (reason) => ws.close(CLOSE_CODES.badMessage, reason),
      encode: (frame, encoding) => options.volumes.encode(frame, encoding),
      onFrame: options.onFrame,
    });
    const set = sockets.get(session.sessionId) ?? new Set();
    set.add(socket);
    sockets.set(session.sessionId, set);
    const activity = () =>
      options.onSessionActivity?.({ sessionId: session.sessionId, openSockets: set.size, expired: false });
    activity();
    // Ping frames keep the load balancer from closing a quiet socket; a client that misses two is gone.
    let answered = true;
    ws.on('pong', () => (answered = true));
    const keepAlive = setInterval(() => {
      if (!answered) return ws.terminate();
      answered = false;
      ws.ping();
    }, SOCKET_KEEPALIVE_MS);
    keepAlive.unref();
    ws.on('close', () => {
      clearInterval(keepAlive);
      set.delete(socket);
      socket.close();
      activity();
    });
    socket.send({ type: 'session', images: held.summaries(), expiresAt: session.credential.expiresAt });
    for (const message of held.catchUp()) socket.send(message);
    held.loadAll();
    void report(session, 'Running');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    memory: async () =>
      Promise.all(
        [...images].map(async ([sessionId, held]) => ({ sessionId, volumeBytes: await held.byteLength() })),
      ),
    stop: async () => {
      for (const set of sockets.values())
        for (const socket of set) socket.close(1001, 'the viewer is stopping');
      sessions.clear();
      for (const held of images.values()) held.close();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** A slide route's answer, as the slides module makes it. */
function send(
  res: http.ServerResponse,
  response: { status: number; headers: Record<string, string>; body: Buffer },
) {
  res.writeHead(response.status, { ...SECURITY_HEADERS, ...response.headers });
  res.end(response.body);
}

function answer(res: http.ServerResponse, status: number, body: unknown, cookie?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json',
    'cache-control': 'no-store',
    ...(cookie && { 'set-cookie': cookie }),
  });
  res.end(text);
}
