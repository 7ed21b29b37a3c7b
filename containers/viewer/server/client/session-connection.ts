import {
  ClientMessage,
  CLOSE_CODES,
  FrameHeader,
  ServerMessage,
  SessionImageSummary,
  unpackFrame,
  viewerPaths,
} from '../protocol';

/**
 * The page's link to its session: takes the credential from the address's fragment (which no
 * browser sends to a server) and removes it from the address and history, exchanges it once for
 * the ticket cookie, then opens the session's socket.
 */
export async function openSession(
  sessionId: string,
): Promise<{ expiresAt: number; images: SessionImageSummary[] }> {
  const credential = new URLSearchParams(location.hash.slice(1)).get('credential');
  history.replaceState(null, '', location.pathname + location.search);
  if (!credential) {
    throw new Error(
      'This address has no session credential. Open the viewer URL the API gave when the session started, with its #credential part.',
    );
  }
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
  if (!response.ok) throw new Error(`The viewer refused this session: ${body.error ?? response.statusText}.`);
  return body;
}

/** Keeps the ticket cookie as long as the session, once the session has been extended. */
export async function renewTicket(sessionId: string): Promise<void> {
  await fetch(viewerPaths.ticket(sessionId), { method: 'POST', credentials: 'same-origin' });
}

export interface SocketHandlers {
  message(message: ServerMessage): void;
  /** A frame to draw; `drawn` acknowledges it once drawn (or dropped). */
  frame(header: FrameHeader, image: Uint8Array): Promise<void>;
  closed(reason: string): void;
}

export class SessionSocket {
  private readonly ws: WebSocket;
  readonly opened: Promise<void>;

  constructor(sessionId: string, handlers: SocketHandlers) {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    this.ws = new WebSocket(`${scheme}//${location.host}${viewerPaths.socket(sessionId)}`);
    this.ws.binaryType = 'arraybuffer';
    this.opened = new Promise((resolve, reject) => {
      this.ws.addEventListener('open', () => resolve(), { once: true });
      this.ws.addEventListener('error', () => reject(new Error('The viewer refused the connection.')), {
        once: true,
      });
    });
    this.ws.addEventListener('message', (event: MessageEvent<ArrayBuffer | string>) => {
      if (typeof event.data === 'string') return handlers.message(JSON.parse(event.data) as ServerMessage);
      const { header, image } = unpackFrame(event.data);
      handlers.frame(header, image).finally(() => this.send({ type: 'ack', frameId: header.frameId }));
    });
    this.ws.addEventListener('close', (event) => handlers.closed(closeReason(event)));
  }

  send(message: ClientMessage): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }
}

function closeReason(event: CloseEvent): string {
  if (event.code === CLOSE_CODES.expired) return event.reason || 'The session has expired.';
  if (event.reason) return `The viewer closed the connection: ${event.reason}.`;
  return 'The connection to the viewer was lost: reload the page to go on.';
}
