/**
 * Whole-slide images for the viewer: a pyramidal tiled TIFF read through its signed URL with
 * Range requests, its tiles served to the browser as stored (JPEG) or losslessly (PNG).
 */
export { openSlide, type OpenSlideOptions, type Slide, type SlideTile } from './open-slide';
export { SessionSlides } from './session-slides';
export { SlideError } from './slide-error';
export { slideTileResponse, tileSourceResponse, type SlideResponse } from './slide-response';
export { type SlideLevel, type SlideTileSource } from './slide-tile-source';
