/** A scale bar: its length on screen in CSS pixels and what it measures, in µm or mm. */
export interface ScaleBar {
  readonly pixels: number;
  readonly microns: number;
  readonly label: string;
}

/**
 * The longest round length (1, 2 or 5 times a power of ten microns) whose bar fits in
 * `maxPixels` at `micronsPerScreenPixel`; undefined when the size is not known.
 */
export function scaleBar(micronsPerScreenPixel: number, maxPixels: number): ScaleBar | undefined {
  if (!(micronsPerScreenPixel > 0) || !Number.isFinite(micronsPerScreenPixel) || !(maxPixels > 0))
    return undefined;
  const longest = micronsPerScreenPixel * maxPixels;
  const power = 10 ** Math.floor(Math.log10(longest));
  const step = [5, 2, 1].find((m) => m * power <= longest * (1 + 1e-9)) ?? 1;
  // One significant figure, so 0.5 µm reads as such and not as 0.5000000001.
  const microns = Number((step * power).toPrecision(1));
  return { pixels: microns / micronsPerScreenPixel, microns, label: lengthLabel(microns) };
}

/** Microns below a millimetre, millimetres from one up. */
function lengthLabel(microns: number): string {
  return microns < 1000 ? `${microns} µm` : `${Number((microns / 1000).toPrecision(1))} mm`;
}
