import { canvasToVoxel, renderView, slabSlices, ViewState } from '../../containers/viewer/server/volume';
import { LoadingVolume } from '../../containers/viewer/server/volume/open-volume';
import { slabKernels } from '../../containers/viewer/server/volume/simd-slab';
import { loaded, pixel, syntheticMha, view } from './volume-fixtures';

/** Values that differ from voxel to voxel in no simple order, negative ones among them. */
const scattered = (x: number, y: number, z: number) => ((x * 37 + y * 101 + z * 53 + x * y * 7) % 400) - 150;

/** The frame a view should show, from the voxels' values alone: nearest voxel per pixel, reduced over the slab. */
function expectedFrame(volume: LoadingVolume, v: ViewState): number[] {
  const { width, height } = v.viewport;
  const through = { axial: 2, coronal: 1, sagittal: 0 }[v.plane];
  const [first, last] = slabSlices(volume.geometry, v.plane, v.position, v.slab);
  const lower = v.window.level - v.window.width / 2;
  const greys: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const index = canvasToVoxel(volume.geometry, v, [x + 0.5, y + 0.5]).map(Math.round);
      if (index.some((i, k) => i < 0 || i >= volume.geometry.size[k])) {
        greys.push(0);
        continue;
      }
      const values: number[] = [];
      for (let k = first; k <= last; k++) {
        const at = [...index];
        at[through] = k;
        values.push(volume.value([at[0], at[1], at[2]], v.timepoint));
      }
      const mode = v.slab?.mode ?? 'mip';
      const value =
        mode === 'mip'
          ? Math.max(...values)
          : mode === 'minip'
            ? Math.min(...values)
            : values.reduce((a, b) => a + b) / values.length;
      const g = Math.round(((value - lower) * 255) / v.window.width);
      greys.push(Math.min(255, Math.max(0, g)));
    }
  }
  return greys;
}

function greysOf(frame: { width: number; height: number; rgb: Uint8Array }): number[] {
  const greys: number[] = [];
  for (let y = 0; y < frame.height; y++)
    for (let x = 0; x < frame.width; x++) greys.push(pixel(frame, x, y)[0]);
  return greys;
}

describe.each([
  // Not bricked along y (19 is not worth padding): reduced in JavaScript.
  { size: [24, 19, 16], type: 'int16', offset: 0, simd: false },
  // Bricked along every axis, x and z padded: reduced with SIMD, signed and unsigned.
  { size: [31, 16, 23], type: 'int16', offset: 0, simd: true },
  { size: [31, 16, 23], type: 'uint16', offset: 40000, simd: true },
  // A 4D image, shown at its second time point.
  { size: [16, 8, 24, 2], type: 'int16', offset: 0, simd: true },
] as const)('slab rendering at the resolution of the canvas, $type $size', ({ size, type, offset, simd }) => {
  const window = { width: 300, level: offset };
  let volume: LoadingVolume;
  beforeAll(async () => {
    const value = (x: number, y: number, z: number, t: number) => scattered(x, y, z) + offset + 90 * t;
    volume = await loaded(
      await syntheticMha({ size, type, spacing: [1, 1.5, 2, 1].slice(0, size.length), value }),
    );
  });

  test('takes the path its layout allows', () => {
    expect(slabKernels(volume.voxels.buffer) !== undefined).toBe(simd);
  });

  test.each([
    ['zoomed in and panned', { zoom: 2.7, pan: [3, -2] as const }],
    ['zoomed out', { zoom: 0.6, pan: [0, 0] as const }],
    ['fitted to a canvas that is not square', { zoom: 1, pan: [0, 0] as const }],
  ])('computes only the voxels shown, %s, as the whole slab would show them', (_, framing) => {
    const far = size.map((n) => n - 1);
    const middle = size.map((n) => Math.floor(n / 2));
    for (const plane of ['axial', 'coronal', 'sagittal'] as const) {
      for (const mode of ['mip', 'minip', 'average'] as const) {
        // Odd and even slice counts, one at each edge of the volume and one inside it; 20 mm
        // spans several bricks.
        for (const [position, thicknessMm] of [
          [[0, 0, 0], 5],
          [far, 6],
          [middle, 7],
          [middle, 20],
        ] as const) {
          const v = view({
            plane,
            position: [position[0], position[1], position[2]],
            timepoint: size.length - 3,
            window,
            slab: { mode, thicknessMm },
            viewport: { width: 37, height: 29 },
            ...framing,
          });
          const frame = renderView(volume, v);
          expect([plane, mode, position, thicknessMm, greysOf(frame)]).toEqual([
            plane,
            mode,
            position,
            thicknessMm,
            expectedFrame(volume, v),
          ]);
        }
      }
    }
  });
});

test('a mean slab whose sums span few values is windowed as exactly as any other', async () => {
  // Sums of 3 slices span 0 to 9, fewer than the values reduced: windowed through a table of sums.
  const volume = await loaded(
    await syntheticMha({ size: [32, 32, 16], value: (x, y, z) => (x + 2 * y + z) % 4 }),
  );
  for (const plane of ['axial', 'coronal', 'sagittal'] as const) {
    const v = view({
      plane,
      position: [16, 16, 8],
      window: { width: 7, level: 1.5 },
      slab: { mode: 'average', thicknessMm: 3 },
      viewport: { width: 40, height: 40 },
    });
    const greys = greysOf(renderView(volume, v));
    expect([plane, greys]).toEqual([plane, expectedFrame(volume, v)]);
    // Not one grey: the window spreads the means over several.
    expect(new Set(greys).size).toBeGreaterThan(2);
  }
});
