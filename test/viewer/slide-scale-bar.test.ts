import { scaleBar } from '../../containers/viewer/server/client/slides/scale-bar';

describe("a slide's scale bar", () => {
  test.each([
    // microns per screen pixel, longest bar in px, label, bar in px
    [0.5, 160, '50 µm', 100],
    [0.25, 160, '20 µm', 80],
    [1, 160, '100 µm', 100],
    [2, 100, '200 µm', 100],
    [0.004, 160, '0.5 µm', 125],
    [7, 160, '1 mm', 1000 / 7],
    [40, 160, '5 mm', 125],
    [130, 160, '20 mm', 20_000 / 130],
  ])('at %p µm per pixel in %p px: %s', (micronsPerPixel, maxPixels, label, pixels) => {
    const bar = scaleBar(micronsPerPixel, maxPixels);
    expect(bar?.label).toBe(label);
    expect(bar?.pixels).toBeCloseTo(pixels, 6);
    expect(bar!.pixels).toBeLessThanOrEqual(maxPixels);
    // Never less than two fifths of the room: 1, 2, 5 steps are at most 2.5 apart.
    expect(bar!.pixels).toBeGreaterThanOrEqual(maxPixels * 0.4);
  });

  test('a slide without a pixel size, or a view of no size, has none', () => {
    expect(scaleBar(0, 160)).toBeUndefined();
    expect(scaleBar(Number.NaN, 160)).toBeUndefined();
    expect(scaleBar(Number.POSITIVE_INFINITY, 160)).toBeUndefined();
    expect(scaleBar(0.5, 0)).toBeUndefined();
  });
});
