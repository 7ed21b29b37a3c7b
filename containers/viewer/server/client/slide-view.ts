import OpenSeadragon from 'openseadragon';
import type { SlideTileSource } from '../slides/slide-tile-source';
import { scaleBar } from './slides/scale-bar';

/** A slide as the page shows it: what the server's `slide.tileSource()` gave, and where its tiles are. */
export interface SlideViewSource extends SlideTileSource {
  /** The URL of tile `column`, `row` of `level` (0 the full resolution). */
  tileUrl(level: number, column: number, row: number): string;
}

export interface ShowSlideOptions {
  /** Told, in words, when the slide or one of its tiles cannot be loaded. */
  readonly onError?: (message: string) => void;
  /** How far past full resolution the view zooms, in screen pixels per slide pixel. @default 2 */
  readonly maxZoomPixelRatio?: number;
  /** Longest scale bar, in CSS pixels. @default 160 */
  readonly scaleBarMaxPixels?: number;
}

export interface SlideView {
  readonly viewer: OpenSeadragon.Viewer;
  /** The scale bar: its text is the length, its width the length on screen. */
  readonly scaleBar: HTMLElement;
  /** Removes the viewer from the page. */
  destroy(): void;
}

/**
 * The URL of a tile as the viewer server serves it to a session's page: the session's cookie
 * authenticates the request, so the URL carries nothing secret.
 */
export function sessionTileUrl(sessionId: string, imageId: string): SlideViewSource['tileUrl'] {
  const base = `/sessions/${encodeURIComponent(sessionId)}/slides/${encodeURIComponent(imageId)}/tiles`;
  return (level, column, row) => `${base}/${level}/${column}_${row}`;
}

/**
 * Shows a whole-slide image in `element` (which must have a size) with OpenSeadragon: wheel zoom,
 * drag pan, and a scale bar when the slide's pixel size is known. Nothing is loaded but tiles:
 * OpenSeadragon's buttons, which are images it would fetch, are left out.
 */
export function showSlide(
  element: HTMLElement,
  source: SlideViewSource,
  options: ShowSlideOptions = {},
): SlideView {
  const top = source.levels.length - 1;
  if (top < 0) throw new Error('the slide has no levels');
  const viewer = OpenSeadragon({
    element,
    tileSources: tileSourceOf(source),
    showNavigationControl: false,
    showNavigator: false,
    prefixUrl: '',
    maxZoomPixelRatio: options.maxZoomPixelRatio ?? 2,
    visibilityRatio: 0.5,
    // A click is the end of a drag as often as not: zoom is the wheel's and the double click's.
    gestureSettingsMouse: { clickToZoom: false, dblClickToZoom: true, scrollToZoom: true, dragToPan: true },
  });

  const bar = document.createElement('div');
  bar.className = 'slide-scale-bar';
  bar.setAttribute('role', 'note');
  Object.assign(bar.style, {
    margin: '0 0 12px 12px',
    padding: '0 2px 2px',
    borderBottom: '3px solid #fff',
    borderLeft: '2px solid #fff',
    borderRight: '2px solid #fff',
    color: '#fff',
    font: '12px sans-serif',
    textAlign: 'center',
    textShadow: '0 0 3px #000',
    boxShadow: '0 2px 2px -1px rgba(0, 0, 0, 0.6)',
    boxSizing: 'border-box',
    whiteSpace: 'nowrap',
    display: 'none',
  });
  viewer.addControl(bar, { anchor: OpenSeadragon.ControlAnchor.BOTTOM_LEFT, autoFade: false });

  const updateScaleBar = () => {
    if (!source.micronsPerPixel || !viewer.world.getItemCount()) return;
    // Screen (CSS) pixels per full-resolution pixel at the zoom being drawn.
    const imageZoom = viewer.viewport.viewportToImageZoom(viewer.viewport.getZoom(true));
    const shown = scaleBar(source.micronsPerPixel / imageZoom, options.scaleBarMaxPixels ?? 160);
    if (!shown) return;
    bar.textContent = shown.label;
    bar.style.width = `${shown.pixels}px`;
    bar.style.display = 'block';
  };
  viewer.addHandler('open', updateScaleBar);
  viewer.addHandler('update-viewport', updateScaleBar);
  viewer.addHandler('open-failed', (event) =>
    options.onError?.(`the slide cannot be opened: ${event.message}`),
  );
  viewer.addHandler('tile-load-failed', (event) =>
    options.onError?.(
      `a tile of the slide cannot be loaded (level ${top - event.tile.level}, column ${event.tile.x}, row ${event.tile.y}): ${event.message}`,
    ),
  );
  return { viewer, scaleBar: bar, destroy: () => viewer.destroy() };
}

/**
 * The pyramid as OpenSeadragon counts it (level 0 the smallest) with the file's own geometry:
 * each level's tile count, and edge tiles, which the file stores whole and padded, cropped to the
 * level's pixels (OpenSeadragon's source bounds) rather than stretched over the edge.
 */
function tileSourceOf(source: SlideViewSource): object {
  const top = source.levels.length - 1;
  const { tileSize, width } = source;
  const levelOf = (level: number) => source.levels[top - level];
  return {
    width: source.width,
    height: source.height,
    tileSize,
    tileOverlap: 0,
    minLevel: 0,
    maxLevel: top,
    getTileUrl: (level: number, column: number, row: number) => source.tileUrl(top - level, column, row),
    getNumTiles: (level: number) => {
      const stored = levelOf(level);
      return new OpenSeadragon.Point(stored?.tilesAcross ?? 0, stored?.tilesDown ?? 0);
    },
    getTileBounds: (level: number, column: number, row: number, isSource?: boolean) => {
      const stored = levelOf(level);
      const x = column * tileSize;
      const y = row * tileSize;
      const w = Math.min(tileSize, stored.width - x);
      const h = Math.min(tileSize, stored.height - y);
      if (isSource) return new OpenSeadragon.Rect(0, 0, w, h);
      // Viewport units: the full-resolution width is 1; a level-pixel spans 2^(top - level) full ones.
      const scale = 2 ** (top - level) / width;
      return new OpenSeadragon.Rect(x * scale, y * scale, w * scale, h * scale);
    },
  };
}
