import { LABEL_COLOURS, labelColour } from './label-colours';
import { LoadingVolume } from './open-volume';
import { NumberArray, planeValues, PlaneValues } from './plane-values';
import { checkView } from './view-checks';
import { PlaneLayout, planeLayout, patientToVoxel, voxelToPatient } from './view-mapping';
import { RenderedFrame, Vec3, ViewState, VolumeGeometry, WindowLevel } from './view-state';

/**
 * Renders one view of a volume as RGB, nearest voxel per canvas pixel through the mapping of
 * `view-mapping.ts`: the slice (or slab) through the crosshair, windowed, with the overlay's labels
 * blended over it. Outside the volume is black; voxels not yet arrived read as zero.
 *
 * Grey = round(255 * (value - (level - width / 2)) / width), clamped to 0..255: the same for
 * every voxel type, through a lookup table for 8- and 16-bit integers. The overlay's labels are
 * those of the crosshair's slice (under a slab too), at the view's time point or its last.
 */
export function renderView(volume: LoadingVolume, view: ViewState, overlay?: LoadingVolume): RenderedFrame {
  const geometry = volume.geometry;
  checkView(geometry, view);
  const { width, height } = view.viewport;
  const layout = planeLayout(geometry, view);
  const { axes, originOnCanvas, pixelsPerVoxel } = layout;
  const size = geometry.size;
  const colIndices = sampleIndices(width, originOnCanvas[0], pixelsPerVoxel[0], size[axes.across]);
  const rowIndices = sampleIndices(height, originOnCanvas[1], pixelsPerVoxel[1], size[axes.down]);
  const samples = { across: distinct(colIndices), down: distinct(rowIndices) };
  const plane = planeValues(volume, view.plane, view.position, view.timepoint, view.slab, samples);
  const cols = offsetsOf(colIndices, plane.across);
  const rows = offsetsOf(rowIndices, plane.down);
  const rgb = new Uint8Array(width * height * 3);
  windowPlane(plane, cols, rows, view.window, rgb);
  if (overlay && view.overlayOpacity > 0) drawOverlay(volume.geometry, overlay, view, layout, rgb);
  return { width, height, rgb };
}

/** For each pixel along a canvas axis, the voxel index under its centre along that axis, or -1 outside the volume. */
function sampleIndices(pixels: number, origin: number, perVoxel: number, count: number): Int32Array {
  const indices = new Int32Array(pixels);
  for (let p = 0; p < pixels; p++) {
    const index = Math.round((p + 0.5 - origin) / perVoxel);
    indices[p] = index >= 0 && index < count ? index : -1;
  }
  return indices;
}

/** The voxel indices sampled, ascending, each once. */
function distinct(indices: Int32Array): Int32Array {
  return Int32Array.from(new Set(indices.filter((i) => i >= 0))).sort();
}

/** Each pixel's offset from `table` by its voxel index, -1 kept for outside. */
function offsetsOf(indices: Int32Array, table: Int32Array): Int32Array {
  return indices.map((i) => (i < 0 ? -1 : table[i]));
}

/** For each pixel along a canvas axis, the offset (from `table`) of the voxel under its centre, or -1 outside. */
function sampleOffsets(pixels: number, origin: number, perVoxel: number, table: Int32Array): Int32Array {
  return offsetsOf(sampleIndices(pixels, origin, perVoxel, table.length), table);
}

/** Pixels a side of the blocks frames are filled in. */
const BAND = 8;

function windowPlane(
  plane: PlaneValues,
  cols: Int32Array,
  rows: Int32Array,
  window: WindowLevel,
  rgb: Uint8Array,
): void {
  const { values, base } = plane;
  const table =
    plane.divisor === undefined ? lookupTable(values, window) : sumsTable(values, plane.divisor, window);
  const width = cols.length;
  if (table) {
    const { lut, offset } = table;
    // Bands of 8 rows, 8 columns at a time: each few neighbouring pixels read from one brick
    // while its pages are still mapped (row by row, a sagittal plane changes page every pixel).
    for (let y0 = 0; y0 < rows.length; y0 += BAND) {
      const y1 = Math.min(rows.length, y0 + BAND);
      for (let x0 = 0; x0 < width; x0 += BAND) {
        const x1 = Math.min(width, x0 + BAND);
        for (let y = y0; y < y1; y++) {
          const row = rows[y];
          if (row < 0) continue;
          const start = base + row;
          let o = (y * width + x0) * 3;
          for (let x = x0; x < x1; x++, o += 3) {
            const col = cols[x];
            if (col < 0) continue;
            const g = lut[values[start + col] + offset];
            rgb[o] = g;
            rgb[o + 1] = g;
            rgb[o + 2] = g;
          }
        }
      }
    }
    return;
  }
  const lower = window.level - window.width / 2;
  const scale = 255 / window.width;
  const divisor = plane.divisor ?? 1;
  for (let y = 0; y < rows.length; y++) {
    const row = rows[y];
    if (row < 0) continue;
    let o = y * width * 3;
    for (let x = 0; x < width; x++, o += 3) {
      const col = cols[x];
      if (col < 0) continue;
      const g = grey(values[base + row + col] / divisor, lower, scale);
      rgb[o] = g;
      rgb[o + 1] = g;
      rgb[o + 2] = g;
    }
  }
}

function grey(value: number, lower: number, scale: number): number {
  const g = Math.round((value - lower) * scale);
  return g <= 0 ? 0 : g >= 255 ? 255 : g;
}

/** Lookup tables by array type and window: the last few, as a session switches between few. */
const tables = new Map<string, { lut: Uint8Array; offset: number }>();
const MAX_TABLES = 8;

/**
 * The grey of every value of an 8- or 16-bit integer type, indexed by value + `offset`;
 * undefined for wider types, windowed value by value.
 */
function lookupTable(
  values: NumberArray,
  window: WindowLevel,
): { lut: Uint8Array; offset: number } | undefined {
  let range: [number, number];
  if (values instanceof Uint8Array) range = [0, 255];
  else if (values instanceof Int8Array) range = [-128, 127];
  else if (values instanceof Uint16Array) range = [0, 65535];
  else if (values instanceof Int16Array) range = [-32768, 32767];
  else return undefined;
  const key = `${range[0]}:${range[1]}:${window.width}:${window.level}`;
  let table = tables.get(key);
  if (!table) {
    const lower = window.level - window.width / 2;
    const scale = 255 / window.width;
    const lut = new Uint8Array(range[1] - range[0] + 1);
    for (let i = 0; i < lut.length; i++) lut[i] = grey(i + range[0], lower, scale);
    table = { lut, offset: -range[0] };
    if (tables.size >= MAX_TABLES) tables.delete(tables.keys().next().value!);
    tables.set(key, table);
  }
  return table;
}

/** Sums spanning at most this many values are windowed through a table made for the frame. */
const MAX_SUMS_TABLE = 1 << 18;

/**
 * The grey of every sum from the least to the greatest of a mean slab's (integer) sums, indexed
 * by sum + `offset`: cheaper than dividing and rounding at each pixel when the sums span less than
 * the pixels; undefined otherwise, or for sums of floats.
 */
function sumsTable(
  values: NumberArray,
  divisor: number,
  window: WindowLevel,
): { lut: Uint8Array; offset: number } | undefined {
  if (!(values instanceof Int32Array)) return undefined;
  let low = values[0];
  let high = values[0];
  for (let i = 1; i < values.length; i++) {
    const v = values[i];
    if (v < low) low = v;
    else if (v > high) high = v;
  }
  if (high - low + 1 > Math.min(MAX_SUMS_TABLE, values.length)) return undefined;
  const lower = window.level - window.width / 2;
  const scale = 255 / window.width;
  const lut = new Uint8Array(high - low + 1);
  for (let i = 0; i < lut.length; i++) lut[i] = grey((i + low) / divisor, lower, scale);
  return { lut, offset: -low };
}

/**
 * The overlay's labels blended over the frame: on the same voxel grid, the label of the voxel
 * shown; otherwise that of the overlay voxel nearest the pixel's patient position.
 */
function drawOverlay(
  geometry: VolumeGeometry,
  overlay: LoadingVolume,
  view: ViewState,
  layout: PlaneLayout,
  rgb: Uint8Array,
): void {
  const { width, height } = view.viewport;
  const og = overlay.geometry;
  const t = Math.min(view.timepoint, og.timepoints - 1);
  const labels = labelValues(overlay);
  const opacity = view.overlayOpacity;
  const { axes, originOnCanvas, pixelsPerVoxel } = layout;
  if (sameGrid(geometry, og)) {
    // The fast path: the overlay's own offset tables, sampled as the volume's are.
    const tables = [overlay.layout.x, overlay.layout.y, overlay.layout.z];
    const cols = sampleOffsets(width, originOnCanvas[0], pixelsPerVoxel[0], tables[axes.across]);
    const rows = sampleOffsets(height, originOnCanvas[1], pixelsPerVoxel[1], tables[axes.down]);
    const base = t * overlay.layout.timeStride + tables[axes.through][layout.slice];
    const voxels = overlay.voxels;
    if (voxels instanceof BigInt64Array || voxels instanceof BigUint64Array) {
      for (let y = 0; y < height; y++) {
        const row = rows[y];
        if (row < 0) continue;
        for (let x = 0; x < width; x++) {
          const col = cols[x];
          if (col < 0) continue;
          const label = labels.read(base + row + col);
          if (label !== 0) blend(rgb, (y * width + x) * 3, label, opacity);
        }
      }
      return;
    }
    // The usual label map: read in place (in blocks, as the volume is), with no call per pixel
    // unless it is labelled.
    const values = voxels as NumberArray;
    const blended = blendTable(opacity);
    const colours = LABEL_COLOURS.length;
    for (let y0 = 0; y0 < height; y0 += BAND) {
      const y1 = Math.min(height, y0 + BAND);
      for (let x0 = 0; x0 < width; x0 += BAND) {
        const x1 = Math.min(width, x0 + BAND);
        for (let y = y0; y < y1; y++) {
          const row = rows[y];
          if (row < 0) continue;
          const start = base + row;
          for (let x = x0; x < x1; x++) {
            const col = cols[x];
            if (col < 0) continue;
            const label = Math.round(values[start + col]);
            if (label === 0 || !Number.isFinite(label)) continue;
            // The frame is grey here, so one table gives all three channels of the blend.
            const o = (y * width + x) * 3;
            const t = ((((((label - 1) % colours) + colours) % colours) << 8) + rgb[o]) * 3;
            rgb[o] = blended[t];
            rgb[o + 1] = blended[t + 1];
            rgb[o + 2] = blended[t + 2];
          }
        }
      }
    }
    return;
  }
  // Another grid: the base volume's voxel index of pixel (x, y) is linear in x and y, and so is
  // the overlay's index of the same patient position.
  const overlayIndex = (x: number, y: number): Vec3 => {
    const index = [0, 0, 0];
    index[axes.across] = (x + 0.5 - originOnCanvas[0]) / pixelsPerVoxel[0];
    index[axes.down] = (y + 0.5 - originOnCanvas[1]) / pixelsPerVoxel[1];
    index[axes.through] = layout.slice;
    return patientToVoxel(og, voxelToPatient(geometry, [index[0], index[1], index[2]]));
  };
  const i0 = overlayIndex(0, 0);
  const i1 = overlayIndex(1, 0);
  const j1 = overlayIndex(0, 1);
  const di = [i1[0] - i0[0], i1[1] - i0[1], i1[2] - i0[2]];
  const dj = [j1[0] - i0[0], j1[1] - i0[1], j1[2] - i0[2]];
  const [sx, sy, sz] = og.size;
  const { x: xs, y: ys, z: zs } = overlay.layout;
  const timeBase = t * overlay.layout.timeStride;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const vx = Math.round(i0[0] + x * di[0] + y * dj[0]);
      const vy = Math.round(i0[1] + x * di[1] + y * dj[1]);
      const vz = Math.round(i0[2] + x * di[2] + y * dj[2]);
      if (vx < 0 || vy < 0 || vz < 0 || vx >= sx || vy >= sy || vz >= sz) continue;
      const label = labels.read(timeBase + xs[vx] + ys[vy] + zs[vz]);
      if (label !== 0) blend(rgb, (y * width + x) * 3, label, opacity);
    }
  }
}

/** A label's colour (`label-colours.ts`) over the grey at `o`; NaN, and labels rounding to 0, are not drawn. */
function blend(rgb: Uint8Array, o: number, label: number, opacity: number): void {
  const colour = labelColour(label);
  if (!colour) return;
  const keep = 1 - opacity;
  rgb[o] = Math.round(rgb[o] * keep + colour[0] * opacity);
  rgb[o + 1] = Math.round(rgb[o + 1] * keep + colour[1] * opacity);
  rgb[o + 2] = Math.round(rgb[o + 2] * keep + colour[2] * opacity);
}

/** The blend of each label colour over each grey, by opacity: the last few, as a session keeps one. */
const blendTables = new Map<number, Uint8Array>();

/** `blend` of colour c over grey g at [(c * 256 + g) * 3], one entry per channel. */
function blendTable(opacity: number): Uint8Array {
  let table = blendTables.get(opacity);
  if (!table) {
    table = new Uint8Array(LABEL_COLOURS.length * 256 * 3);
    const keep = 1 - opacity;
    LABEL_COLOURS.forEach((colour, c) => {
      for (let g = 0; g < 256; g++) {
        for (let k = 0; k < 3; k++)
          table![(c * 256 + g) * 3 + k] = Math.round(g * keep + colour[k] * opacity);
      }
    });
    if (blendTables.size >= MAX_TABLES) blendTables.delete(blendTables.keys().next().value!);
    blendTables.set(opacity, table);
  }
  return table;
}

/** Reads an overlay's labels as numbers; 64-bit labels by their low 32 bits, which hold any label map's. */
function labelValues(overlay: LoadingVolume): { read(index: number): number } {
  const voxels = overlay.voxels;
  if (voxels instanceof BigInt64Array || voxels instanceof BigUint64Array) {
    const low = new Int32Array(voxels.buffer, voxels.byteOffset, voxels.length * 2);
    return { read: (index) => low[index * 2] };
  }
  const values = voxels as NumberArray;
  return { read: (index) => values[index] };
}

/** Whether two volumes share their voxel grid, so voxel indices match without patient space. */
export function sameGrid(a: VolumeGeometry, b: VolumeGeometry): boolean {
  const close = (x: readonly number[], y: readonly number[]) => x.every((v, i) => Math.abs(v - y[i]) < 1e-6);
  return (
    close(a.size, b.size) &&
    close(a.spacing, b.spacing) &&
    close(a.origin, b.origin) &&
    a.direction.every((row, k) => close(row, b.direction[k]))
  );
}
