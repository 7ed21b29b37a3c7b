import type { FrameEncoding } from '../protocol';
import type {
  CanvasPoint,
  Probe,
  RegionShape,
  RegionStatistics,
  RenderedFrame,
  ViewState,
  VolumeGeometry,
  WindowLevel,
} from '../volume/view-state';

/**
 * What the viewer server needs of the volume engine and of the slide reader: the server knows
 * them only through these shapes, so that it can be read (and tested) apart from how volumes are
 * rendered and slides are read.
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

/** A pyramidal slide as the deep-zoom client reads it: its description and its tiles as stored. */
export interface ServedSlide {
  /** What the client's deep-zoom viewer opens (levels, tile size, microns per pixel), as JSON. */
  tileSource(): unknown;
  /** The answer to a tile route, from the path's level and `column_row` as given. */
  tileResponse(level: string, columnRow: string): Promise<TileResponse>;
}

export interface TileResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

export interface SlideReader {
  /** Rejects with `SlideOpenError` (a status and words) when the slide cannot be served. */
  open(url: string): Promise<ServedSlide>;
}

/** Why a slide cannot be opened, with the status its routes answer. */
export class SlideOpenError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'SlideOpenError';
  }
}
