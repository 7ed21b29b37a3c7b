import {
  ClientMessage,
  CLOSE_CODES,
  FrameHeader,
  RECONNECT,
  ServerMessage,
  SessionImageSummary,
  unpackFrame,
  viewerPaths,
} from '../protocol';

export interface OpenedSession {
  readonly expiresAt: number;
  readonly images: SessionImageSummary[];
  /**
   * Exchanges the credential again, with whichever viewer host the address now reaches: how a
   * session comes back after its host is gone. The credential stays in this closure only.
   */
  readonly exchangeAgain: () => Promise<void>;
}

/** The viewer refused the credential itself (expired, another user's): trying again cannot help. */
export class SessionRefused extends Error {}

/** A viewer host that is full or draining answers 503: the next try may reach another. */
const BUSY_TRIES = 10;

/**
 * The page's link to its session: takes the credential from the address's fragment (which no
 * browser sends to a server) and removes it from the address and history, exchanges it for the
 * ticket cookie, then opens the session's socket. The credential is kept in memory, never stored,
 * so that the session can be exchanged again on another host.
 */
export async function openSession(sessionId: string): Promise<OpenedSession> {
  const credential = new URLSearchParams(location.hash.slice(1)).get('credential');
  history.replaceState(null, '', location.pathname + location.search);
  if (!credential) {
    throw new Error(
      'This address has no session credential. Open the viewer URL the API gave when the session started, with its #credential part.',
    );
  }
  const body = await exchange(sessionId, credential);
  return { ...body, exchangeAgain: async () => void (await exchange(sessionId, credential)) };
}

async function exchange(
  sessionId: string,
  credential: string,
): Promise<{ expiresAt: number; images: SessionImageSummary[] }> {
  for (let tries = 1; ; tries++) {
    const response = await fetch(viewerPaths.credential(sessionId), {
      method: 'POST',
      headers: { authorization: `Bearer ${credential}` },
      credentials: 'same-origin',
    });
    const body = (await response.json().catch(() => ({}))) as {
      error?: string;
      expiresAt: number;
      images: SessionImageSummary[];
    };
    if (response.ok) return body;
    const words = `The viewer refused this session: ${body.error ?? response.statusText}.`;
    if (response.status >= 400 && response.status < 500) throw new SessionRefused(words);
    if (tries >= BUSY_TRIES) throw new Error(words);
    const retryAfter = Number(response.headers.get('retry-after')) || 1;
    await sleep(Math.min(retryAfter * 1000, RECONNECT.maxDelayMs));
  }
}

/** Keeps the ticket cookie as long as the session, once the session has been extended. */
export async function renewTicket(sessionId: string): Promise<void> {
  await fetch(viewerPaths.ticket(sessionId), { method: 'POST', credentials: 'same-origin' });
}

export interface SocketHandlers {
  message(message: ServerMessage): void;
  /** A frame to draw; `drawn` acknowledges it once drawn (or dropped). */
  frame(header: FrameHeader, image: Uint8Array): Promise<void>;
  /** The socket was lost; it is being opened again. */
  interrupted(reason: string): void;
  /** A new socket is open after a loss: the views shown are to be asked for again. */
  resumed(): void;
  /** The session is over (expired or refused): no new socket will be opened. */
  closed(reason: string): void;
}

/**
 * The session's socket, opened again whenever it is lost: a closed socket, or one on which the
 * viewer has not answered a ping for `RECONNECT.silenceMs`, is replaced after exchanging the
 * credential again, with growing pauses between tries. Only an expired session, a refused
 * credential or a message the viewer did not take end it.
 */
export class SessionSocket {
  private ws!: WebSocket;
  readonly opened: Promise<void>;
  private heardAt = 0;
  private pingedAt = 0;
  private finished = false;

  constructor(
    private readonly sessionId: string,
    private readonly handlers: SocketHandlers,
    private readonly exchangeAgain: () => Promise<void>,
  ) {
    this.opened = this.connect();
    // Checked every second, so that a silent viewer is given up soon after `silenceMs`.
    setInterval(() => this.keepAlive(), 1000);
  }

  send(message: ClientMessage): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  private connect(): Promise<void> {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}${viewerPaths.socket(this.sessionId)}`);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.heardAt = Date.now();
    ws.addEventListener('message', (event: MessageEvent<ArrayBuffer | string>) => {
      if (ws !== this.ws) return;
      this.heardAt = Date.now();
      if (typeof event.data === 'string') {
        const message = JSON.parse(event.data) as ServerMessage;
        if (message.type !== 'pong') this.handlers.message(message);
        return;
      }
      const { header, image } = unpackFrame(event.data);
      this.handlers.frame(header, image).finally(() => this.send({ type: 'ack', frameId: header.frameId }));
    });
    ws.addEventListener('close', (event) => {
      if (ws !== this.ws) return;
      if (event.code === CLOSE_CODES.expired || event.code === CLOSE_CODES.badMessage) {
        this.finished = true;
        return this.handlers.closed(closeReason(event));
      }
      void this.reconnect(closeReason(event));
    });
    return new Promise((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error('The viewer refused the connection.')), {
        once: true,
      });
    });
  }

  private keepAlive(): void {
    if (this.finished || this.ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this.heardAt > RECONNECT.silenceMs) {
      // A host that vanished sends no close: the socket is let go without waiting for one.
      const lost = this.ws;
      void this.reconnect('The viewer stopped answering.');
      lost.close();
      return;
    }
    if (Date.now() - this.pingedAt >= RECONNECT.pingMs) {
      this.pingedAt = Date.now();
      this.send({ type: 'ping' });
    }
  }

  private reconnecting = false;

  private async reconnect(reason: string): Promise<void> {
    if (this.reconnecting || this.finished) return;
    this.reconnecting = true;
    this.handlers.interrupted(`${reason} Reconnecting…`);
    let delay: number = RECONNECT.firstDelayMs;
    for (;;) {
      await sleep(delay);
      delay = Math.min(delay * 2, RECONNECT.maxDelayMs);
      try {
        await this.exchangeAgain();
        await this.connect();
        break;
      } catch (err) {
        if (err instanceof SessionRefused) {
          this.finished = true;
          this.reconnecting = false;
          return this.handlers.closed((err as Error).message);
        }
      }
    }
    this.reconnecting = false;
    this.handlers.resumed();
  }
}

function closeReason(event: CloseEvent): string {
  if (event.code === CLOSE_CODES.expired) return event.reason || 'The session has expired.';
  if (event.reason) return `The viewer closed the connection: ${event.reason}.`;
  return 'The connection to the viewer was lost.';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
