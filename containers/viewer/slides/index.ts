/**
 * Whole-slide images for the viewer: a pyramidal tiled TIFF read through its signed URL with
 * Range requests, its tiles served to the browser as stored (JPEG) or losslessly (PNG).
 */
export { openSlide, type OpenSlideOptions, type Slide, type SlideTile } from './open-slide';
export { SlideError } from './slide-error';
export { type SlideLevel, type SlideTileSource } from './slide-tile-source';
export { slideTileResponse, type SlideTileResponse } from './slide-tile-response';
