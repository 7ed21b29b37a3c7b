import { LABEL_COLOURS, labelColour, renderView, voxelToCanvas } from '../../containers/viewer/server/volume';
import { loaded, pixel, syntheticMha, view } from './volume-fixtures';

/** A value that names its voxel: x + 10 y + 100 z. */
const indexValue = (x: number, y: number, z: number) => x + 10 * y + 100 * z;
/** Width 1020 from 0: grey = value / 4, rounded. */
const window = { width: 1020, level: 510 };
const grey = (value: number) => Math.round(value / 4);

describe('renderView', () => {
  test('windows the axial slice exactly, x to the right and y down', async () => {
    const volume = await loaded(await syntheticMha({ size: [8, 6, 5], value: indexValue }));
    const frame = renderView(
      volume,
      view({ position: [0, 0, 3], window, viewport: { width: 8, height: 6 } }),
    );
    expect(frame.width).toBe(8);
    expect(frame.height).toBe(6);
    expect(frame.rgb).toHaveLength(8 * 6 * 3);
    for (const [x, y] of [
      [0, 0],
      [7, 0],
      [0, 5],
      [5, 2],
    ]) {
      expect(pixel(frame, x, y)).toEqual(new Array(3).fill(grey(indexValue(x, y, 3))));
    }
    // A narrow window clips: values under its lower end are black, over its upper end white.
    const narrow = renderView(
      volume,
      view({ position: [0, 0, 3], window: { width: 20, level: 320 }, viewport: { width: 8, height: 6 } }),
    );
    expect(pixel(narrow, 0, 0)[0]).toBe(0); // 300, below 310
    expect(pixel(narrow, 5, 1)[0]).toBe(Math.round(((315 - 310) * 255) / 20)); // 315
    expect(pixel(narrow, 0, 3)[0]).toBe(255); // 330, above 330
  });

  test('coronal shows x to the right and z up; sagittal y to the right and z up', async () => {
    const volume = await loaded(await syntheticMha({ size: [8, 6, 5], value: indexValue }));
    const coronal = renderView(
      volume,
      view({ plane: 'coronal', position: [1, 3, 1], window, viewport: { width: 8, height: 5 } }),
    );
    const sagittal = renderView(
      volume,
      view({ plane: 'sagittal', position: [2, 1, 1], window, viewport: { width: 6, height: 5 } }),
    );
    for (let row = 0; row < 5; row++) {
      for (let column = 0; column < 8; column++) {
        expect(pixel(coronal, column, row)[0]).toBe(grey(indexValue(column, 3, 4 - row)));
      }
      for (let column = 0; column < 6; column++) {
        expect(pixel(sagittal, column, row)[0]).toBe(grey(indexValue(2, column, 4 - row)));
      }
    }
  });

  test('renders every plane of a volume kept in bricks voxel for voxel', async () => {
    const size = [16, 24, 32];
    const volume = await loaded(await syntheticMha({ size, value: indexValue }));
    const wide = { width: 4000, level: 2000 };
    const g = (value: number) => Math.round((value * 255) / 4000);
    const axial = renderView(
      volume,
      view({ position: [0, 0, 29], window: wide, viewport: { width: 16, height: 24 } }),
    );
    const coronal = renderView(
      volume,
      view({ plane: 'coronal', position: [0, 13, 0], window: wide, viewport: { width: 16, height: 32 } }),
    );
    const sagittal = renderView(
      volume,
      view({ plane: 'sagittal', position: [9, 0, 0], window: wide, viewport: { width: 24, height: 32 } }),
    );
    const mip = renderView(
      volume,
      view({
        plane: 'sagittal',
        position: [9, 0, 0],
        window: wide,
        slab: { mode: 'mip', thicknessMm: 5 },
        viewport: { width: 24, height: 32 },
      }),
    );
    for (let a = 0; a < 24; a++) {
      for (let b = 0; b < 32; b++) {
        if (a < 16 && b < 24) expect(pixel(axial, a, b)[0]).toBe(g(indexValue(a, b, 29)));
        if (a < 16) expect(pixel(coronal, a, b)[0]).toBe(g(indexValue(a, 13, 31 - b)));
        expect(pixel(sagittal, a, b)[0]).toBe(g(indexValue(9, a, 31 - b)));
        expect(pixel(mip, a, b)[0]).toBe(g(indexValue(11, a, 31 - b)));
      }
    }
  });

  test('keeps the aspect of anisotropic voxels: 0.5 x 0.5 x 2 mm rows are 4 times taller than columns are wide', async () => {
    const volume = await loaded(
      await syntheticMha({ size: [8, 8, 4], spacing: [0.5, 0.5, 2], value: indexValue }),
    );
    // The plane is 4 mm across and 8 mm down: 8 pixels per mm fill 32 x 64 pixels.
    const frame = renderView(
      volume,
      view({ plane: 'coronal', position: [0, 2, 0], window, viewport: { width: 32, height: 64 } }),
    );
    const at = (x: number, y: number) => pixel(frame, x, y)[0];
    expect(at(0, 0)).toBe(grey(indexValue(0, 2, 3)));
    expect(at(3, 15)).toBe(grey(indexValue(0, 2, 3)));
    expect(at(4, 0)).toBe(grey(indexValue(1, 2, 3)));
    expect(at(0, 16)).toBe(grey(indexValue(0, 2, 2)));
    expect(at(31, 63)).toBe(grey(indexValue(7, 2, 0)));
    // A wider viewport centres the plane with black either side.
    const wide = renderView(
      volume,
      view({ plane: 'coronal', position: [0, 2, 0], window, viewport: { width: 64, height: 64 } }),
    );
    expect(pixel(wide, 15, 0)[0]).toBe(0);
    expect(pixel(wide, 16, 0)[0]).toBe(grey(indexValue(0, 2, 3)));
    expect(pixel(wide, 47, 63)[0]).toBe(grey(indexValue(7, 2, 0)));
    expect(pixel(wide, 48, 63)[0]).toBe(0);
  });

  test('zooms about the viewport centre and pans by millimetres', async () => {
    const volume = await loaded(await syntheticMha({ size: [8, 8, 2], value: indexValue }));
    const vp = { width: 64, height: 64 };
    // Zoom 2: 16 pixels per voxel, the plane's centre (3.5, 3.5) at the canvas centre.
    const zoomed = renderView(volume, view({ zoom: 2, window, viewport: vp }));
    expect(pixel(zoomed, 31, 31)[0]).toBe(grey(indexValue(3, 3, 0)));
    expect(pixel(zoomed, 32, 32)[0]).toBe(grey(indexValue(4, 4, 0)));
    expect(pixel(zoomed, 0, 0)[0]).toBe(grey(indexValue(2, 2, 0)));
    expect(pixel(zoomed, 15, 15)[0]).toBe(grey(indexValue(2, 2, 0)));
    expect(pixel(zoomed, 16, 16)[0]).toBe(grey(indexValue(3, 3, 0)));
    // Panned 2 mm right and 1 mm down: the canvas centre shows (5.5, 4.5).
    const panned = renderView(volume, view({ zoom: 2, pan: [2, 1], window, viewport: vp }));
    expect(pixel(panned, 32, 32)[0]).toBe(grey(indexValue(6, 5, 0)));
    expect(pixel(panned, 31, 31)[0]).toBe(grey(indexValue(5, 4, 0)));
    // Zoomed out, the volume is centred with black around it.
    const small = renderView(volume, view({ zoom: 0.5, window, viewport: vp }));
    expect(pixel(small, 15, 15)[0]).toBe(0);
    expect(pixel(small, 16, 16)[0]).toBe(grey(indexValue(0, 0, 0)));
    expect(pixel(small, 47, 47)[0]).toBe(grey(indexValue(7, 7, 0)));
    expect(pixel(small, 48, 48)[0]).toBe(0);
  });

  test('a slab shows the maximum, minimum or mean of the slices its thickness in mm covers', async () => {
    const value = (x: number, y: number, z: number) => ((x * 37 + y * 101 + z * 53) % 200) - 40;
    const size = [6, 5, 7];
    const spacing = [1, 2, 3];
    const volume = await loaded(await syntheticMha({ size, spacing, value }));
    const identity = { width: 255, level: 127.5 }; // grey = value, clipped at 0 and 255
    const position = [2, 2, 3] as const;
    // 6 mm: 6 slices of x (1 mm), 3 of y (2 mm), 2 of z (3 mm), centred on the crosshair's.
    const slices = { sagittal: [0, 5], coronal: [1, 3], axial: [3, 4] } as const;
    const through = { sagittal: 0, coronal: 1, axial: 2 } as const;
    for (const plane of ['axial', 'coronal', 'sagittal'] as const) {
      for (const mode of ['mip', 'minip', 'average'] as const) {
        const v = view({
          plane,
          position,
          window: identity,
          slab: { mode, thicknessMm: 6 },
          viewport: { width: 40, height: 40 },
        });
        const frame = renderView(volume, v);
        for (const voxel of [
          [0, 0, 0],
          [5, 4, 6],
          [3, 1, 2],
          [1, 3, 5],
        ] as const) {
          const shown: number[] = [];
          for (let k = slices[plane][0]; k <= slices[plane][1]; k++) {
            const at = [...voxel];
            at[through[plane]] = k;
            shown.push(value(at[0], at[1], at[2]));
          }
          const expected =
            mode === 'mip'
              ? Math.max(...shown)
              : mode === 'minip'
                ? Math.min(...shown)
                : shown.reduce((a, b) => a + b) / shown.length;
          const [cx, cy] = voxelToCanvas(volume.geometry, v, voxel);
          expect([plane, mode, voxel, pixel(frame, Math.floor(cx), Math.floor(cy))[0]]).toEqual([
            plane,
            mode,
            voxel,
            Math.min(255, Math.max(0, Math.round(expected))),
          ]);
        }
      }
    }
  });

  test('shows the time point asked for in a 4D image', async () => {
    const volume = await loaded(
      await syntheticMha({ size: [4, 4, 3, 3], value: (x, y, z, t) => indexValue(x, y, z) + 300 * t }),
    );
    for (const timepoint of [0, 1, 2]) {
      const frame = renderView(
        volume,
        view({ position: [0, 0, 2], timepoint, window, viewport: { width: 4, height: 4 } }),
      );
      expect(pixel(frame, 3, 1)[0]).toBe(grey(indexValue(3, 1, 2) + 300 * timepoint));
    }
    expect(() => renderView(volume, view({ timepoint: 3, viewport: { width: 4, height: 4 } }))).toThrow(
      'the time point 3 is not one of 0 to 2',
    );
  });

  test('an overlay on the same grid colours its labelled voxels only, blended by its opacity', async () => {
    const volume = await loaded(await syntheticMha({ size: [8, 8, 4], value: indexValue }));
    const label = (x: number, y: number, z: number) =>
      z === 1 && x >= 2 && x <= 3 && y >= 4 && y <= 5 ? 1 : z === 1 && x === 6 && y === 6 ? 2 : 0;
    const overlay = await loaded(await syntheticMha({ size: [8, 8, 4], type: 'uint8', value: label }));
    const vp = { width: 8, height: 8 };
    const frame = renderView(
      volume,
      view({ position: [0, 0, 1], window, overlayOpacity: 0.25, viewport: vp }),
      overlay,
    );
    let coloured = 0;
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        const g = grey(indexValue(x, y, 1));
        const l = label(x, y, 1);
        const expected =
          l === 0 ? [g, g, g] : LABEL_COLOURS[l - 1].map((c) => Math.round(g * 0.75 + c * 0.25));
        if (l !== 0) coloured++;
        expect([x, y, pixel(frame, x, y)]).toEqual([x, y, expected]);
      }
    }
    expect(coloured).toBe(5);
    // Opacity 0 hides it; another slice has no labels.
    const hidden = renderView(
      volume,
      view({ position: [0, 0, 1], window, overlayOpacity: 0, viewport: vp }),
      overlay,
    );
    expect(pixel(hidden, 2, 4)).toEqual(new Array(3).fill(grey(indexValue(2, 4, 1))));
    const other = renderView(
      volume,
      view({ position: [0, 0, 2], window, overlayOpacity: 1, viewport: vp }),
      overlay,
    );
    expect(pixel(other, 2, 4)).toEqual(new Array(3).fill(grey(indexValue(2, 4, 2))));
  });

  test('labels take a fixed colour each, repeating after the table; label 0 has none', () => {
    expect(labelColour(0)).toBeUndefined();
    expect(labelColour(NaN)).toBeUndefined();
    expect(labelColour(1)).toEqual([230, 25, 75]);
    expect(labelColour(2)).not.toEqual(labelColour(1));
    expect(new Set(LABEL_COLOURS.map((c) => c.join())).size).toBe(LABEL_COLOURS.length);
    expect(labelColour(LABEL_COLOURS.length + 1)).toBe(labelColour(1));
    expect(labelColour(-1)).toBe(LABEL_COLOURS[LABEL_COLOURS.length - 2]);
    expect(labelColour(2.2)).toBe(labelColour(2));
  });

  test("an overlay on another grid is sampled at the nearest voxel of each pixel's patient position", async () => {
    const volume = await loaded(await syntheticMha({ size: [8, 8, 2], value: indexValue }));
    // Voxels twice as large, offset half a base voxel: overlay voxel i covers base voxels 2i and 2i + 1.
    const overlay = await loaded(
      await syntheticMha({
        size: [4, 4, 1],
        spacing: [2, 2, 2],
        origin: [0.5, 0.5, 0.5],
        type: 'int64',
        value: (x, y) => (x === 1 && y === 2 ? 3 : 0),
      }),
    );
    const frame = renderView(
      volume,
      view({ position: [0, 0, 1], window, overlayOpacity: 1, viewport: { width: 8, height: 8 } }),
      overlay,
    );
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        const inside = x >= 2 && x <= 3 && y >= 4 && y <= 5;
        const g = grey(indexValue(x, y, 1));
        expect([x, y, pixel(frame, x, y)]).toEqual([x, y, inside ? [...LABEL_COLOURS[2]] : [g, g, g]]);
      }
    }
  });

  test('every voxel type is windowed by the same formula, one after another with one window', async () => {
    // uint8 first, then uint16 with values past 255: each type has its own lookup table.
    for (const type of [
      'uint8',
      'uint16',
      'int8',
      'int16',
      'float32',
      'int32',
      'uint32',
      'int64',
      'float64',
    ] as const) {
      const big = !type.includes('8');
      const value = (x: number, y: number) => x + 10 * y + (big ? 700 : 0);
      const volume = await loaded(await syntheticMha({ size: [8, 6, 2], type, value }));
      const frame = renderView(
        volume,
        view({ position: [0, 0, 1], window, viewport: { width: 8, height: 6 } }),
      );
      expect([type, pixel(frame, 7, 5)[0], pixel(frame, 1, 2)[0]]).toEqual([
        type,
        grey(value(7, 5)),
        grey(value(1, 2)),
      ]);
    }
  });

  test('a view that cannot be rendered is refused, naming what is wrong', async () => {
    const volume = await loaded(await syntheticMha({ size: [4, 4, 2], value: indexValue }));
    expect(() => renderView(volume, view({ window: { width: 0, level: 0 } }))).toThrow(
      /needs a positive width/,
    );
    expect(() => renderView(volume, view({ viewport: { width: 0, height: 10 } }))).toThrow(
      /viewport width 0/,
    );
    expect(() => renderView(volume, view({ zoom: -1 }))).toThrow('the zoom -1 is not positive');
    expect(() => renderView(volume, view({ overlayOpacity: 2 }))).toThrow(/overlay opacity 2/);
  });
});

describe('overlays on the same grid', () => {
  test('blend every label as its colour says, whatever the type: large, negative and fractional labels too', async () => {
    const volume = await loaded(await syntheticMha({ size: [16, 8, 8], value: indexValue }));
    const labels = [0, 1, 21, -1, 2.4, 255, 40, -0.4];
    const label = (x: number) => labels[x % labels.length];
    for (const type of ['float32', 'int16'] as const) {
      const whole = type === 'int16';
      const overlay = await loaded(
        await syntheticMha({
          size: [16, 8, 8],
          type,
          value: (x, y, z) => (z === 5 && y > 1 ? (whole ? Math.round(label(x)) : label(x)) : 0),
        }),
      );
      const v = view({
        position: [0, 0, 5],
        window,
        overlayOpacity: 0.6,
        viewport: { width: 16, height: 8 },
      });
      const frame = renderView(volume, v, overlay);
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 16; x++) {
          const g = grey(indexValue(x, y, 5));
          const colour = y > 1 ? labelColour(whole ? Math.round(label(x)) : label(x)) : undefined;
          const expected = colour ? colour.map((c) => Math.round(g * 0.4 + c * 0.6)) : [g, g, g];
          expect([type, x, y, pixel(frame, x, y)]).toEqual([type, x, y, expected]);
        }
      }
    }
  });
});
