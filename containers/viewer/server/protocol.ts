import type {
  CanvasPoint,
  Plane,
  Probe,
  RegionShape,
  RegionStatistics,
  ViewState,
  VolumeGeometry,
  WindowLevel,
} from './volume/view-state';

/**
 * What the viewer's browser client and its server say over a session's WebSocket. Text messages
 * are JSON of the shapes below; frames travel as binary messages: a 4-byte big-endian length, a
 * JSON `FrameHeader` of that length, then the encoded image.
 */

/** The images of the session as the client may list them: no URL, nothing the reader may not see. */
export interface SessionImageSummary {
  readonly id: string;
  readonly name: string;
  readonly kind: 'volume' | 'slide';
  readonly overlays: readonly { readonly id: string; readonly name: string }[];
}

/** A view the client shows: one canvas of one image. */
export interface ViewRequest {
  readonly type: 'view';
  /** Increases with every request of the socket; a frame names the request it answers. */
  readonly id: number;
  readonly imageId: string;
  /** The canvas; its newest request replaces any older one not rendered yet. */
  readonly canvas: Plane;
  readonly view: ViewState;
  /** The overlay drawn over the image, one of its overlays. */
  readonly overlayId?: string;
}

/** The client has drawn a frame: the server may send another. */
export interface FrameAck {
  readonly type: 'ack';
  readonly frameId: number;
}

interface Measurement {
  /** Chosen by the client; the answer carries it back. */
  readonly requestId: number;
  readonly imageId: string;
  readonly view: ViewState;
}

export interface ProbeRequest extends Measurement {
  readonly type: 'probe';
  readonly point: CanvasPoint;
}

export interface LengthRequest extends Measurement {
  readonly type: 'length';
  readonly from: CanvasPoint;
  readonly to: CanvasPoint;
}

export interface RegionRequest extends Measurement {
  readonly type: 'region';
  readonly shape: RegionShape;
}

/**
 * The client checks that its viewer still answers; the server answers `pong`. A ping is not the
 * reader's activity: it keeps no session alive. Servers before it closed the socket on it.
 */
export interface PingMessage {
  readonly type: 'ping';
}

export type ClientMessage =
  ViewRequest | FrameAck | ProbeRequest | LengthRequest | RegionRequest | PingMessage;

/** Sent once the socket is open: the session's images and when it ends unless kept alive. */
export interface SessionMessage {
  readonly type: 'session';
  readonly images: readonly SessionImageSummary[];
  /** Epoch seconds. */
  readonly expiresAt: number;
}

/** The reader is active and the session was extended; the client renews its ticket. */
export interface ExpiryMessage {
  readonly type: 'expiry';
  readonly expiresAt: number;
}

/** A volume's header has been read: its views can be asked for. */
export interface GeometryMessage {
  readonly type: 'geometry';
  readonly imageId: string;
  readonly geometry: VolumeGeometry;
  /** The window to start with: a CT's soft tissue preset, the histogram's for other images. */
  readonly window: WindowLevel;
}

/** How much of an image (or of its overlay) has arrived. */
export interface ProgressMessage {
  readonly type: 'progress';
  readonly imageId: string;
  /** Set when the progress is of this overlay of the image. */
  readonly overlayId?: string;
  readonly receivedBytes: number;
  /** Unknown until the response names its length. */
  readonly totalBytes?: number;
  readonly done: boolean;
}

export interface ProbeAnswer {
  readonly type: 'probe';
  readonly requestId: number;
  readonly probe: Probe;
}

export interface LengthAnswer {
  readonly type: 'length';
  readonly requestId: number;
  readonly millimetres: number;
}

export interface RegionAnswer {
  readonly type: 'region';
  readonly requestId: number;
  readonly statistics: RegionStatistics;
}

/** Something went wrong, in words the reader can act on; `requestId` or `imageId` says what failed. */
export interface ErrorMessage {
  readonly type: 'error';
  readonly message: string;
  readonly imageId?: string;
  readonly requestId?: number;
}

/** The answer to the client's `ping`. */
export interface PongMessage {
  readonly type: 'pong';
}

export type ServerMessage =
  | PongMessage
  | SessionMessage
  | ExpiryMessage
  | GeometryMessage
  | ProgressMessage
  | ProbeAnswer
  | LengthAnswer
  | RegionAnswer
  | ErrorMessage;

/** The header of a binary frame message. */
export interface FrameHeader {
  readonly frameId: number;
  /** The view request it renders. */
  readonly requestId: number;
  readonly imageId: string;
  readonly canvas: Plane;
  /** `jpeg` while the view changes; `png` (lossless) once it has been still. */
  readonly encoding: FrameEncoding;
  readonly width: number;
  readonly height: number;
  readonly view: ViewState;
}

export type FrameEncoding = 'jpeg' | 'png';

/**
 * Frames sent and not yet acknowledged, at most, per socket: three keep a 40 ms round trip busy
 * (33 frames/s with two, 44 with three, in `bench/viewer-session.ts`) and still drop stale views.
 */
export const MAX_FRAMES_IN_FLIGHT = 3;
/** A view unchanged this long is sent again losslessly. */
export const STILL_AFTER_MS = 150;

/**
 * What a view request may ask for: the server closes a socket that asks for more (a protocol
 * error), so the client keeps the reader's zoom, slab and canvas inside these.
 */
export const VIEW_BOUNDS = {
  zoom: { min: 0.05, max: 64 },
  slabThicknessMm: { min: 0, max: 10_000 },
  /** Device pixels a side of a canvas: no screen's is larger. */
  viewportPixels: 4096,
} as const;

/** Close codes of the socket, with the reason as text beside them. */
export const CLOSE_CODES = {
  /** The session's credential expired: the reader starts a new session. */
  expired: 4001,
  /** The ticket is missing, unknown or for another session. */
  refused: 4003,
  /** The client sent what the protocol does not allow. */
  badMessage: 4400,
} as const;

/**
 * How a client finds out that its viewer is gone and comes back on another. It pings every
 * `pingMs`; a socket silent for `silenceMs` is given up. It then exchanges its credential again
 * (the load balancer may send it to another host, which starts the session afresh) and opens a
 * new socket, waiting `firstDelayMs`, doubled up to `maxDelayMs`, between tries, and sends the
 * views it shows so that the reader sees the same ones.
 */
export const RECONNECT = { pingMs: 5_000, silenceMs: 12_000, firstDelayMs: 250, maxDelayMs: 4_000 } as const;

/**
 * The server pings every socket this often (WebSocket ping frames), so that a load balancer's
 * idle timeout, which must be longer, never cuts an open session, and a dead client is let go.
 */
export const SOCKET_KEEPALIVE_MS = 20_000;

/**
 * The status of a session's route on a viewer host that does not hold the session (it ran on a
 * host that is gone): the client exchanges its credential again, here or wherever it is sent.
 */
export const SESSION_NOT_HERE_STATUS = 409;

/** Frame header and image in one binary message. */
export function packFrame(header: FrameHeader, image: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const message = new Uint8Array(4 + json.length + image.length);
  new DataView(message.buffer).setUint32(0, json.length);
  message.set(json, 4);
  message.set(image, 4 + json.length);
  return message;
}

export function unpackFrame(message: ArrayBuffer | Uint8Array): { header: FrameHeader; image: Uint8Array } {
  const bytes = message instanceof Uint8Array ? message : new Uint8Array(message);
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length))) as FrameHeader;
  return { header, image: bytes.subarray(4 + length) };
}

/** Route paths of a session on the viewer server. */
export const viewerPaths = {
  page: (sessionId: string) => `/sessions/${sessionId}`,
  /** Everything the ticket cookie is sent to. */
  scope: (sessionId: string) => `/sessions/${sessionId}/`,
  credential: (sessionId: string) => `/sessions/${sessionId}/credential`,
  ticket: (sessionId: string) => `/sessions/${sessionId}/ticket`,
  socket: (sessionId: string) => `/sessions/${sessionId}/socket`,
  client: (sessionId: string) => `/sessions/${sessionId}/client.js`,
  slideSource: (sessionId: string, imageId: string) => `/sessions/${sessionId}/slides/${imageId}`,
  tile: (sessionId: string, imageId: string, level: number, col: number, row: number) =>
    `/sessions/${sessionId}/slides/${imageId}/tiles/${level}/${col}_${row}`,
};
