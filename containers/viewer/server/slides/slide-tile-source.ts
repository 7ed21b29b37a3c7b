/**
 * What the browser needs of a slide to view it: the pyramid's geometry and its pixel size. The
 * server sends it as JSON; the client adds the URL of a tile (`showSlide`).
 */

/** One level of the pyramid; level 0 is the full resolution, each next one half the one before. */
export interface SlideLevel {
  readonly width: number;
  readonly height: number;
  readonly tilesAcross: number;
  readonly tilesDown: number;
}

export interface SlideTileSource {
  /** Pixels of the full-resolution level. */
  readonly width: number;
  readonly height: number;
  /** Side of the square tiles, the same on every level. Edge tiles are stored whole, padded. */
  readonly tileSize: number;
  /** Full resolution first. */
  readonly levels: readonly SlideLevel[];
  /** Size of a full-resolution pixel, when the file states it. */
  readonly micronsPerPixel?: number;
}
