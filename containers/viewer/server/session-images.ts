import type { SessionCredential, SessionImage } from '../../../lambda/contracts/session-credential';
import type { GeometryMessage, ProgressMessage, ServerMessage, SessionImageSummary } from './protocol';
import { SessionSlides } from './slides';
import type { ViewerVolume, VolumeEngine } from './viewer-engines';

/** Why an image cannot be had, in words for the reader; the route answers 404 with it. */
export class NotInSession extends Error {
  override readonly name = 'NotInSession';
}

/**
 * The images of one session, read through the signed URLs of its credential and held while the
 * session lasts. Only what the credential names can be had: any other id is `NotInSession`.
 */
export class SessionImages {
  private readonly volumes = new Map<string, Promise<ViewerVolume>>();
  /** The session's slides, served by image id: any other id is answered 404. */
  readonly slides: SessionSlides;
  private readonly progress = new Map<string, ProgressMessage>();
  private readonly geometries = new Map<string, GeometryMessage>();
  private readonly aborts = new AbortController();
  private readonly failed = new Set<string>();

  constructor(
    private readonly credential: () => SessionCredential,
    private readonly volumeEngine: VolumeEngine,
    /** Sends to every socket of the session. */
    private readonly broadcast: (message: ServerMessage) => void,
    /** An image (not an overlay) of the session could not be read. */
    private readonly onImageFailed: (image: SessionImage, error: Error) => void,
  ) {
    this.slides = new SessionSlides(
      (imageId) => this.credential().images.find((i) => i.id === imageId && i.kind === 'slide')?.url,
    );
  }

  summaries(): SessionImageSummary[] {
    return this.credential().images.map((image) => ({
      id: image.id,
      name: image.name,
      kind: image.kind,
      overlays: image.overlays.map((overlay) => ({ id: overlay.id, name: overlay.name })),
    }));
  }

  /** What a socket that joins late needs to catch up: geometries and progress so far. */
  catchUp(): ServerMessage[] {
    return [...this.geometries.values(), ...this.progress.values()];
  }

  /** Starts reading every volume and overlay of the session. */
  loadAll(): void {
    for (const image of this.credential().images) {
      if (image.kind !== 'volume') continue;
      this.volume(image.id).catch(() => undefined);
      for (const overlay of image.overlays) this.overlay(image.id, overlay.id).catch(() => undefined);
    }
  }

  /** Throws `NotInSession` unless the session has this volume (and this overlay of it). */
  assertInSession(imageId: string, overlayId?: string): void {
    const image = this.image(imageId, 'volume');
    if (overlayId && !image.overlays.some((o) => o.id === overlayId)) {
      throw new NotInSession(`overlay ${overlayId} is not one of image ${imageId}`);
    }
  }

  volume(imageId: string): Promise<ViewerVolume> {
    const image = this.image(imageId, 'volume');
    return this.load(
      image.id,
      image.url,
      { imageId },
      (volume) => {
        const geometry: GeometryMessage = {
          type: 'geometry',
          imageId,
          geometry: volume.geometry,
          window: volume.autoWindow(),
        };
        this.geometries.set(imageId, geometry);
        this.broadcast(geometry);
      },
      (err) => {
        this.failed.add(image.id);
        this.onImageFailed(image, err);
      },
    );
  }

  overlay(imageId: string, overlayId: string): Promise<ViewerVolume> {
    const overlay = this.image(imageId, 'volume').overlays.find((o) => o.id === overlayId);
    if (!overlay) throw new NotInSession(`overlay ${overlayId} is not one of image ${imageId}`);
    return this.load(`${imageId}/${overlayId}`, overlay.url, { imageId, overlayId });
  }

  /** Whether no image of the session can be shown: each is a volume, and each failed to load. */
  allFailed(): boolean {
    return this.credential().images.every((image) => this.failed.has(image.id));
  }

  /** Memory held by the volumes that have been opened. */
  async byteLength(): Promise<number> {
    const volumes = await Promise.allSettled(this.volumes.values());
    return volumes.reduce((sum, v) => sum + (v.status === 'fulfilled' ? v.value.byteLength : 0), 0);
  }

  close(): void {
    this.aborts.abort(new Error('the session has ended'));
    this.volumes.clear();
  }

  private image(imageId: string, kind: SessionImage['kind']): SessionImage {
    const image = this.credential().images.find((i) => i.id === imageId);
    if (!image || image.kind !== kind)
      throw new NotInSession(`image ${imageId} is not a ${kind} of this session`);
    return image;
  }

  private load(
    key: string,
    url: string,
    names: { imageId: string; overlayId?: string },
    onOpen?: (volume: ViewerVolume) => void,
    onFail?: (err: Error) => void,
  ): Promise<ViewerVolume> {
    let volume = this.volumes.get(key);
    if (volume) return volume;
    const report = (receivedBytes: number, totalBytes: number | undefined, done: boolean) => {
      const message: ProgressMessage = { type: 'progress', ...names, receivedBytes, totalBytes, done };
      this.progress.set(key, message);
      this.broadcast(message);
    };
    let last = { receivedBytes: 0, totalBytes: undefined as number | undefined, sentAt: 0 };
    volume = this.volumeEngine
      .open(
        url,
        ({ receivedBytes, totalBytes }) => {
          // Progress at most every 100 ms: the socket carries frames too.
          const now = Date.now();
          last = { receivedBytes, totalBytes, sentAt: last.sentAt };
          if (now - last.sentAt < 100) return;
          last.sentAt = now;
          report(receivedBytes, totalBytes, false);
        },
        this.aborts.signal,
      )
      .then((opened) => {
        onOpen?.(opened);
        opened.complete.then(
          () => report(last.totalBytes ?? last.receivedBytes, last.totalBytes ?? last.receivedBytes, true),
          (err: Error) => {
            onFail?.(err);
            this.broadcast({ type: 'error', imageId: names.imageId, message: loadFailure(names, err) });
          },
        );
        return opened;
      });
    volume.catch((err: Error) => {
      this.volumes.delete(key);
      onFail?.(err);
      this.broadcast({ type: 'error', imageId: names.imageId, message: loadFailure(names, err) });
    });
    this.volumes.set(key, volume);
    return volume;
  }
}

function loadFailure(names: { imageId: string; overlayId?: string }, err: Error): string {
  const what = names.overlayId
    ? `overlay ${names.overlayId} of image ${names.imageId}`
    : `image ${names.imageId}`;
  return `${what} could not be read: ${err.message}`;
}
