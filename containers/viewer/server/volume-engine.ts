import { Readable } from 'node:stream';
import {
  defaultWindow,
  encodeFrame,
  measureLength,
  measureRegion,
  openVolume,
  probe,
  renderView,
  type LoadingVolume,
} from './volume';
import type { ViewerVolume, VolumeEngine } from './viewer-engines';

/**
 * The volume engine as the server uses it: each image fetched through its signed URL and
 * decoded as its bytes arrive, so that its first slices render before the rest has come.
 */
export const volumeEngine: VolumeEngine = {
  async open(url, onProgress, signal) {
    const response = await fetch(url, { signal });
    if (!response.ok || !response.body) {
      // The signed URL is not repeated: it would end up in logs and on the reader's screen.
      await response.body?.cancel();
      throw new Error(`the image store answered ${response.status} ${response.statusText}`);
    }
    const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
    const volume = await openVolume(body, {
      onProgress: (loadedBytes, totalBytes) => onProgress({ receivedBytes: loadedBytes, totalBytes }),
    });
    signal.addEventListener('abort', () => volume.close(), { once: true });
    return viewerVolume(volume);
  },
  encode: async (frame, encoding) =>
    (await encodeFrame(frame, encoding === 'png' ? 'still' : 'interactive')).bytes,
};

/** The engine's own volume behind each `ViewerVolume` made here: an overlay is drawn from it. */
const engineVolumes = new WeakMap<ViewerVolume, LoadingVolume>();

function viewerVolume(volume: LoadingVolume): ViewerVolume {
  const viewer: ViewerVolume = {
    geometry: volume.geometry,
    complete: volume.done,
    byteLength: volume.voxels.byteLength,
    autoWindow: () => defaultWindow(volume),
    render: (view, overlay) => renderView(volume, view, overlay && engineVolume(overlay)),
    probe: (view, point) => probe(volume, view, point),
    measureLength: (view, from, to) => measureLength(volume, view, from, to),
    measureRegion: (view, shape) => measureRegion(volume, view, shape),
  };
  engineVolumes.set(viewer, volume);
  return viewer;
}

function engineVolume(volume: ViewerVolume): LoadingVolume {
  const inner = engineVolumes.get(volume);
  if (!inner) throw new Error('the overlay was not opened by the volume engine');
  return inner;
}
