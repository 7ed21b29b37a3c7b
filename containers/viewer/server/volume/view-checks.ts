import { ViewState, VolumeGeometry } from './view-state';

/** The largest canvas rendered: a 4K screen at twice its density is well inside it. */
export const MAX_VIEWPORT_PIXELS = 8192;

/**
 * Refuses a view that cannot be rendered, with a message naming what is wrong; a crosshair
 * outside the volume is not wrong (the nearest slice is shown).
 */
export function checkView(geometry: VolumeGeometry, view: ViewState): void {
  const { width, height } = view.viewport;
  for (const [name, value] of [
    ['viewport width', width],
    ['viewport height', height],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_VIEWPORT_PIXELS) {
      throw new Error(
        `the ${name} ${value} is not a whole number of pixels from 1 to ${MAX_VIEWPORT_PIXELS}`,
      );
    }
  }
  if (!['axial', 'coronal', 'sagittal'].includes(view.plane))
    throw new Error(`the plane ${view.plane} is not known`);
  if (!view.position.every(Number.isFinite) || view.position.length !== 3) {
    throw new Error(`the position ${JSON.stringify(view.position)} is not three numbers`);
  }
  if (!Number.isInteger(view.timepoint) || view.timepoint < 0 || view.timepoint >= geometry.timepoints) {
    throw new Error(`the time point ${view.timepoint} is not one of 0 to ${geometry.timepoints - 1}`);
  }
  if (
    !(view.window.width > 0) ||
    !Number.isFinite(view.window.width) ||
    !Number.isFinite(view.window.level)
  ) {
    throw new Error(
      `the window ${view.window.width}/${view.window.level} needs a positive width and a level`,
    );
  }
  if (!(view.zoom > 0) || !Number.isFinite(view.zoom))
    throw new Error(`the zoom ${view.zoom} is not positive`);
  if (!view.pan.every(Number.isFinite) || view.pan.length !== 2) {
    throw new Error(`the pan ${JSON.stringify(view.pan)} is not two numbers`);
  }
  if (!(view.overlayOpacity >= 0 && view.overlayOpacity <= 1)) {
    throw new Error(`the overlay opacity ${view.overlayOpacity} is not from 0 to 1`);
  }
  if (view.slab) {
    if (!['mip', 'minip', 'average'].includes(view.slab.mode))
      throw new Error(`the slab mode ${view.slab.mode} is not known`);
    if (!(view.slab.thicknessMm >= 0) || !Number.isFinite(view.slab.thicknessMm)) {
      throw new Error(`the slab thickness ${view.slab.thicknessMm} mm is not a number of millimetres`);
    }
  }
}
