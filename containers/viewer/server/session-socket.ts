import type { WebSocket } from 'ws';
import { ClientMessage, FrameEncoding, packFrame, ServerMessage, ViewRequest } from './protocol';
import { parseClientMessage } from './client-messages';
import { FramePacer } from './frame-pacer';
import { NotInSession, SessionImages } from './session-images';
import type { VolumeEngine } from './viewer-engines';

export interface SessionSocketOptions {
  /** The reader did something: the session is kept alive. */
  readonly onInput: () => void;
  /** The client broke the protocol; the socket is closed with the reason. */
  readonly onBadMessage: (reason: string) => void;
  readonly encode: VolumeEngine['encode'];
  /** A frame was sent: milliseconds from its view request's arrival. @default - not told */
  readonly onFrame?: (milliseconds: number) => void;
}

/** One reader's socket: view requests paced into frames, measurements answered. */
export class SessionSocket {
  private readonly pacer: FramePacer;
  /** When each view request waiting for its first frame arrived, by request id. */
  private readonly arrivals = new Map<number, number>();

  constructor(
    private readonly ws: WebSocket,
    private readonly images: SessionImages,
    private readonly options: SessionSocketOptions,
  ) {
    this.pacer = new FramePacer({
      deliver: (request, encoding, frameId) => this.deliver(request, encoding, frameId),
      onError: (request, err) => this.send({ type: 'error', imageId: request.imageId, message: words(err) }),
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return options.onBadMessage('the viewer takes only text messages');
      let message: ClientMessage;
      try {
        message = parseClientMessage(data.toString());
      } catch (err) {
        return options.onBadMessage((err as Error).message.slice(0, 120));
      }
      this.receive(message).catch((err: Error) => {
        const requestId = 'requestId' in message ? message.requestId : undefined;
        this.send({ type: 'error', message: words(err), requestId });
      });
    });
  }

  send(message: ServerMessage): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(message));
  }

  close(code?: number, reason?: string): void {
    this.pacer.close();
    if (code && this.ws.readyState === this.ws.OPEN) this.ws.close(code, reason);
  }

  private async receive(message: ClientMessage): Promise<void> {
    if (message.type === 'ack') return this.pacer.ack(message.frameId);
    if (message.type === 'ping') return this.send({ type: 'pong' });
    this.options.onInput();
    if (message.type === 'view') {
      // Checked now, so that no frame of an image outside the session is ever queued.
      this.images.assertInSession(message.imageId, message.overlayId);
      if (this.pacer.request(message) && this.options.onFrame) {
        // Only the newest request of a canvas is rendered: older ones are forgotten.
        for (const id of this.arrivals.keys()) if (id < message.id - 16) this.arrivals.delete(id);
        this.arrivals.set(message.id, performance.now());
      }
      return;
    }
    const volume = await this.images.volume(message.imageId);
    const { requestId, view } = message;
    if (message.type === 'probe') {
      this.send({ type: 'probe', requestId, probe: volume.probe(view, message.point) });
    } else if (message.type === 'length') {
      this.send({
        type: 'length',
        requestId,
        millimetres: volume.measureLength(view, message.from, message.to),
      });
    } else {
      this.send({ type: 'region', requestId, statistics: volume.measureRegion(view, message.shape) });
    }
  }

  private async deliver(request: ViewRequest, encoding: FrameEncoding, frameId: number): Promise<void> {
    const volume = await this.images.volume(request.imageId);
    const overlay =
      request.overlayId && request.view.overlayOpacity > 0
        ? await this.images.overlay(request.imageId, request.overlayId)
        : undefined;
    const frame = volume.render(request.view, overlay);
    const image = await this.options.encode(frame, encoding);
    const message = packFrame(
      {
        frameId,
        requestId: request.id,
        imageId: request.imageId,
        canvas: request.canvas,
        encoding,
        width: frame.width,
        height: frame.height,
        view: request.view,
      },
      image,
    );
    await new Promise<void>((resolve, reject) =>
      this.ws.send(message, { binary: true }, (err) => (err ? reject(err) : resolve())),
    );
    const arrived = this.arrivals.get(request.id);
    if (arrived !== undefined) {
      this.arrivals.delete(request.id);
      this.options.onFrame?.(performance.now() - arrived);
    }
  }
}

function words(err: Error): string {
  return err instanceof NotInSession ? err.message : `the view could not be rendered: ${err.message}`;
}
