import { FrameEncoding, MAX_FRAMES_IN_FLIGHT, STILL_AFTER_MS, ViewRequest } from './protocol';

export interface FramePacerOptions {
  /** Renders and encodes the view, and sends it as frame `frameId`. */
  readonly deliver: (request: ViewRequest, encoding: FrameEncoding, frameId: number) => Promise<void>;
  /** A view could not be rendered: the client is told, the pacer goes on with the next one. */
  readonly onError: (request: ViewRequest, error: Error) => void;
  /** @default MAX_FRAMES_IN_FLIGHT */
  readonly maxInFlight?: number;
  /** @default STILL_AFTER_MS */
  readonly stillAfterMs?: number;
}

/**
 * Frame pacing of one socket. Only the newest request of each canvas waits to be rendered (an
 * older one not yet rendered is dropped, and a request older than one already seen is ignored),
 * one frame is rendered at a time, and no more than `maxInFlight` frames are sent and not yet
 * acknowledged: a slow link or a slow client holds frames back instead of queueing them. A view
 * is sent as JPEG first; once its canvas has had no newer request for `stillAfterMs`, it is
 * sent again losslessly.
 */
export class FramePacer {
  private readonly pending = new Map<string, { request: ViewRequest; encoding: FrameEncoding }>();
  private readonly newest = new Map<string, number>();
  private readonly stillTimers = new Map<string, NodeJS.Timeout>();
  private readonly inFlight = new Set<number>();
  private nextFrameId = 1;
  private rendering = false;
  private closed = false;
  private readonly maxInFlight: number;
  private readonly stillAfterMs: number;

  constructor(private readonly options: FramePacerOptions) {
    this.maxInFlight = options.maxInFlight ?? MAX_FRAMES_IN_FLIGHT;
    this.stillAfterMs = options.stillAfterMs ?? STILL_AFTER_MS;
  }

  /** Takes a view request; false when it is older than one already taken for its canvas. */
  request(request: ViewRequest): boolean {
    const key = canvasKey(request);
    if (this.closed || request.id <= (this.newest.get(key) ?? -Infinity)) return false;
    this.newest.set(key, request.id);
    clearTimeout(this.stillTimers.get(key));
    this.stillTimers.delete(key);
    // Re-inserted, so that canvases take turns in the order they last changed.
    this.pending.delete(key);
    this.pending.set(key, { request, encoding: 'jpeg' });
    this.pump();
    return true;
  }

  /** The client has drawn the frame. */
  ack(frameId: number): void {
    if (this.inFlight.delete(frameId)) this.pump();
  }

  get framesInFlight(): number {
    return this.inFlight.size;
  }

  close(): void {
    this.closed = true;
    this.pending.clear();
    for (const timer of this.stillTimers.values()) clearTimeout(timer);
    this.stillTimers.clear();
  }

  private pump(): void {
    if (this.rendering || this.closed || this.inFlight.size >= this.maxInFlight) return;
    const next = this.pending.entries().next();
    if (next.done) return;
    const [key, { request, encoding }] = next.value;
    this.pending.delete(key);
    const frameId = this.nextFrameId++;
    this.rendering = true;
    this.inFlight.add(frameId);
    this.options.deliver(request, encoding, frameId).then(
      () => {
        this.rendering = false;
        if (encoding === 'jpeg') this.whenStill(key, request);
        this.pump();
      },
      (err: Error) => {
        this.rendering = false;
        this.inFlight.delete(frameId);
        this.options.onError(request, err);
        this.pump();
      },
    );
  }

  private whenStill(key: string, request: ViewRequest): void {
    if (this.closed || this.newest.get(key) !== request.id) return;
    this.stillTimers.set(
      key,
      setTimeout(() => {
        this.stillTimers.delete(key);
        if (this.closed || this.newest.get(key) !== request.id || this.pending.has(key)) return;
        this.pending.set(key, { request, encoding: 'png' });
        this.pump();
      }, this.stillAfterMs),
    );
  }
}

function canvasKey(request: ViewRequest): string {
  return `${request.imageId}/${request.canvas}`;
}
