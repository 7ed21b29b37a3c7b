import sharp from 'sharp';
import {
  autoWindow,
  canvasToVoxel,
  defaultWindow,
  encodeFrame,
  measureLength,
  measureRegion,
  probe,
  renderView,
  voxelToCanvas,
} from '../../containers/viewer/server/volume';
import { loaded, syntheticMha, view } from './volume-fixtures';

const indexValue = (x: number, y: number, z: number) => x + 10 * y + 100 * z;

describe('probe and measurements', () => {
  test('probe gives the voxel under a canvas point, its patient position and its value in HU', async () => {
    const volume = await loaded(
      await syntheticMha({
        size: [8, 6, 5],
        spacing: [0.5, 1, 2],
        origin: [100, -50, 10],
        // x runs along patient -y, y along patient +x.
        axes: [
          [0, -1, 0],
          [1, 0, 0],
          [0, 0, 1],
        ],
        metadata: { Modality: 'CT' },
        value: (x, y, z) => indexValue(x, y, z) - 1024,
      }),
    );
    // Axial: 4 mm across and 6 mm down in 40 x 60 pixels, 10 per mm: voxel (x, y) centred at (5 x + 2.5, 10 y + 5).
    const v = view({ position: [0, 0, 3], viewport: { width: 40, height: 60 } });
    const at = probe(volume, v, [5 * 5 + 2.5, 10 * 2 + 5]);
    expect(at.voxel).toEqual([5, 2, 3]);
    expect(at.value).toBe(indexValue(5, 2, 3) - 1024);
    expect(at.units).toBe('HU');
    const [px, py, pz] = at.patient;
    expect([px, py, pz].map((n) => +n.toFixed(6))).toEqual([100 + 2 * 1, -50 - 5 * 0.5, 10 + 3 * 2]);
    // Outside the volume: a patient position, but no voxel and no value.
    const outside = probe(
      volume,
      view({ position: [0, 0, 3], zoom: 0.5, viewport: { width: 40, height: 60 } }),
      [1, 1],
    );
    expect(outside.voxel).toBeUndefined();
    expect(outside.value).toBeUndefined();
    expect(outside.patient).toHaveLength(3);
  });

  test('probe follows the same mapping as the rendered frame on coronal and sagittal planes', async () => {
    const volume = await loaded(
      await syntheticMha({ size: [8, 6, 5], spacing: [0.5, 0.5, 2], value: indexValue }),
    );
    for (const plane of ['coronal', 'sagittal'] as const) {
      const v = view({
        plane,
        position: [3, 2, 1],
        zoom: 1.7,
        pan: [0.3, -1],
        window: { width: 1020, level: 510 },
      });
      const frame = renderView(volume, v);
      for (const point of [
        [10, 20],
        [33, 40],
        [50, 12],
      ] as const) {
        const at = probe(volume, v, [point[0] + 0.5, point[1] + 0.5]);
        const shown = frame.rgb[(point[1] * frame.width + point[0]) * 3];
        expect(shown).toBe(at.value === undefined ? 0 : Math.round(at.value / 4));
        const back = voxelToCanvas(volume.geometry, v, canvasToVoxel(volume.geometry, v, point));
        expect(back.map((n) => +n.toFixed(9))).toEqual([...point]);
      }
    }
  });

  test('length is in millimetres with anisotropic spacing respected', async () => {
    const volume = await loaded(
      await syntheticMha({ size: [8, 8, 4], spacing: [0.5, 0.5, 2], value: indexValue }),
    );
    // Coronal: 4 mm across, 8 mm down, 8 pixels per mm in 32 x 64.
    const v = view({ plane: 'coronal', position: [0, 3, 0], viewport: { width: 32, height: 64 } });
    // From voxel (0, z 3) to voxel (6, z 0): 3 mm across, 6 mm down.
    const a = voxelToCanvas(volume.geometry, v, [0, 3, 3]);
    const b = voxelToCanvas(volume.geometry, v, [6, 3, 0]);
    expect(a).toEqual([2, 8]);
    expect(b).toEqual([26, 56]);
    expect(measureLength(volume, v, a, b)).toBeCloseTo(Math.hypot(3, 6), 9);
    // One voxel row down is 2 mm; one column across 0.5 mm.
    expect(measureLength(volume, v, [2, 8], [2, 24])).toBeCloseTo(2, 9);
    expect(measureLength(volume, v, [2, 8], [6, 8])).toBeCloseTo(0.5, 9);
  });

  test('region statistics over a rectangle and an ellipse', async () => {
    const volume = await loaded(
      await syntheticMha({ size: [10, 10, 3], spacing: [2, 2, 5], value: indexValue }),
    );
    // Axial: 20 x 20 mm in 40 x 40 pixels, 2 per mm, 4 per voxel; voxel i centred at 4 i + 2.
    const v = view({ position: [0, 0, 1], viewport: { width: 40, height: 40 } });
    const rectangle = measureRegion(volume, v, { kind: 'rectangle', from: [9, 5], to: [20, 15] });
    // Voxel centres inside: x 2..4 (10, 14, 18), y 1..3 (6, 10, 14).
    const values = [2, 3, 4].flatMap((x) => [1, 2, 3].map((y) => indexValue(x, y, 1)));
    const mean = values.reduce((s, x) => s + x) / values.length;
    const sd = Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / values.length);
    expect(rectangle.voxels).toBe(9);
    expect(rectangle.mean).toBeCloseTo(mean, 9);
    expect(rectangle.sd).toBeCloseTo(sd, 9);
    expect(rectangle.min).toBe(indexValue(2, 1, 1));
    expect(rectangle.max).toBe(indexValue(4, 3, 1));
    expect(rectangle.areaMm2).toBeCloseTo((11 / 2) * (10 / 2), 9);

    // An ellipse centred on voxel (5, 5), 2.5 voxels in radius across and 1.5 down.
    const ellipse = measureRegion(volume, v, { kind: 'ellipse', from: [12, 16], to: [32, 28] });
    const inside: number[] = [];
    for (let y = 0; y < 10; y++)
      for (let x = 0; x < 10; x++)
        if (((x - 5) / 2.5) ** 2 + ((y - 5) / 1.5) ** 2 <= 1) inside.push(indexValue(x, y, 1));
    expect(ellipse.voxels).toBe(inside.length);
    expect(ellipse.mean).toBeCloseTo(inside.reduce((s, x) => s + x) / inside.length, 9);
    expect(ellipse.min).toBe(Math.min(...inside));
    expect(ellipse.max).toBe(Math.max(...inside));
    expect(ellipse.areaMm2).toBeCloseTo((Math.PI / 4) * 10 * 6, 9);

    const empty = measureRegion(volume, v, { kind: 'rectangle', from: [0, 0], to: [1, 1] });
    expect(empty.voxels).toBe(0);
    expect(empty.mean).toBeNaN();
  });

  test('region statistics under a slab are those of the values it shows, in every mode', async () => {
    // Bricked along every axis, so the slab is reduced as a large CT's would be.
    const volume = await loaded(await syntheticMha({ size: [16, 16, 16], value: indexValue }));
    // Coronal, 16 x 16 voxels in 64 x 64 pixels; a 3-slice slab over y 6 to 8.
    const shown = { mip: (x: number, z: number) => indexValue(x, 8, z) } as Record<
      string,
      (x: number, z: number) => number
    >;
    shown.minip = (x, z) => indexValue(x, 6, z);
    shown.average = (x, z) => indexValue(x, 7, z);
    for (const mode of ['mip', 'minip', 'average'] as const) {
      const v = view({ plane: 'coronal', position: [0, 7, 0], slab: { mode, thicknessMm: 3 } });
      // Voxel centres inside: x 2..4, z 13..11 (z grows up the canvas).
      const region = measureRegion(volume, v, { kind: 'rectangle', from: [8, 8], to: [19, 19] });
      const values = [2, 3, 4].flatMap((x) => [11, 12, 13].map((z) => shown[mode](x, z)));
      expect([mode, region.voxels, region.min, region.max]).toEqual([
        mode,
        9,
        Math.min(...values),
        Math.max(...values),
      ]);
      expect(region.mean).toBeCloseTo(values.reduce((a, b) => a + b) / values.length, 9);
    }
  });

  test('autoWindow spans the 1st to 99th percentile of an MR; a CT opens on soft tissue', async () => {
    // Values 0..999 evenly, plus a few bright outliers the window should ignore.
    const mr = await loaded(
      await syntheticMha({
        size: [40, 25, 10],
        type: 'uint16',
        value: (x, y, z) => (x + 40 * y + 1000 * z === 5 ? 60000 : (x + 40 * y) % 1000),
      }),
    );
    const window = autoWindow(mr);
    expect(window.level).toBeCloseTo(499.5, -1);
    expect(window.width).toBeGreaterThan(960);
    expect(window.width).toBeLessThan(1000);
    expect(defaultWindow(mr)).toEqual(window);
    const ct = await loaded(
      await syntheticMha({ size: [4, 4, 2], metadata: { Modality: 'CT' }, value: indexValue }),
    );
    expect(defaultWindow(ct)).toEqual({ width: 400, level: 40 });
    const hinted = await loaded(
      await syntheticMha({
        size: [4, 4, 2],
        metadata: { WindowCenter: '[50, 60]', WindowWidth: '[350, 400]' },
        value: indexValue,
      }),
    );
    expect(defaultWindow(hinted)).toEqual({ width: 350, level: 50 });
  });
});

describe('encodeFrame', () => {
  test('a still frame is lossless PNG; an interactive one JPEG', async () => {
    const volume = await loaded(
      await syntheticMha({ size: [32, 24, 2], value: (x, y) => (x * 37 + y * 11) % 500 }),
    );
    const frame = renderView(
      volume,
      view({ position: [0, 0, 1], window: { width: 500, level: 250 }, viewport: { width: 48, height: 40 } }),
    );
    const still = await encodeFrame(frame, 'still');
    expect(still.contentType).toBe('image/png');
    const decoded = await sharp(still.bytes).raw().toBuffer({ resolveWithObject: true });
    expect(decoded.info).toMatchObject({ width: 48, height: 40, channels: 3 });
    expect(decoded.data.equals(Buffer.from(frame.rgb))).toBe(true);

    const moving = await encodeFrame(frame, 'interactive');
    expect(moving.contentType).toBe('image/jpeg');
    expect((await sharp(moving.bytes).metadata()).format).toBe('jpeg');
    await expect(encodeFrame({ width: 10, height: 10, rgb: new Uint8Array(5) }, 'still')).rejects.toThrow(
      /holds 5 bytes, not the 300/,
    );
  });
});
