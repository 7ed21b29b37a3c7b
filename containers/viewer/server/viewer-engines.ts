import type { FrameEncoding } from './protocol';
import type {
  CanvasPoint,
  Probe,
  RegionShape,
  RegionStatistics,
  RenderedFrame,
  ViewState,
  VolumeGeometry,
  WindowLevel,
} from './volume/view-state';

/**
 * What the viewer server needs of the volume engine: the server knows it only through these
 * shapes, so that it can be read (and tested) apart from how volumes are rendered.
 */

/** A volume being received: usable from its header on, its slices filling in as they arrive. */
export interface ViewerVolume {
  readonly geometry: VolumeGeometry;
  /** Settles once every voxel has arrived; rejects, saying why, if the download or decoding fails. */
  readonly complete: Promise<void>;
  /** The window to open with: a CT's soft tissue preset, the histogram's for other images. */
  autoWindow(): WindowLevel;
  render(view: ViewState, overlay?: ViewerVolume): RenderedFrame;
  probe(view: ViewState, point: CanvasPoint): Probe;
  measureLength(view: ViewState, from: CanvasPoint, to: CanvasPoint): number;
  measureRegion(view: ViewState, shape: RegionShape): RegionStatistics;
  /** Bytes held in memory for it. */
  readonly byteLength: number;
}

export interface DownloadProgress {
  readonly receivedBytes: number;
  readonly totalBytes?: number;
}

export interface VolumeEngine {
  /**
   * Starts reading the `.mha` at `url` (fetched as it streams) and resolves once its header is
   * read; `onProgress` follows the bytes received. Rejects with an error in words when the file
   * cannot be read.
   */
  open(
    url: string,
    onProgress: (progress: DownloadProgress) => void,
    signal: AbortSignal,
  ): Promise<ViewerVolume>;
  encode(frame: RenderedFrame, encoding: FrameEncoding): Promise<Uint8Array>;
}
