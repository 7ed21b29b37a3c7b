// The pixels of the codec tests' frames, also used by the platform's test of the codecs as
// bundled for Lambda (test/images/codec-bundle.test.ts).
import type { RawFrame } from './dicom-frame-encoders';

/** A pixel format and how the test series is coded. */
export interface Coding {
  readonly transferSyntax: string;
  readonly bits: 8 | 16;
  readonly samples: 1 | 3;
  readonly signed?: boolean;
  readonly bitsStored?: number;
  readonly photometric?: string;
  readonly predictor?: number;
  readonly interleaveMode?: number;
}

export const ROWS = 16;
export const COLUMNS = 24;

/**
 * Stored values of slice k: a smooth ramp with noise, spanning the format's whole range, and the
 * extremes (which wrap around in lossless prediction) at the start of the first slice.
 */
export function slicePixels(coding: Coding, k: number, smooth = false): RawFrame['pixels'] {
  const count = ROWS * COLUMNS * coding.samples;
  const bits = coding.bitsStored ?? coding.bits;
  const low = coding.signed ? -(2 ** (bits - 1)) : 0;
  const high = coding.signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  let seed = 11 + k;
  const values = Array.from({ length: count }, (_, i) => {
    seed = (seed * 16807) % 2147483647;
    const x = Math.floor(i / coding.samples) % COLUMNS;
    const y = Math.floor(i / coding.samples / COLUMNS);
    const ramp = ((x + 2 * y + 5 * k + 7 * (i % coding.samples)) / (COLUMNS + 2 * ROWS + 20)) * (high - low);
    const noise = smooth ? 0 : (seed % 9) - 4;
    return Math.max(low, Math.min(high, Math.round(low + ramp + noise)));
  });
  if (k === 0 && !smooth) values.splice(0, 4, low, high, low, high);
  const Typed =
    coding.bits === 8 ? (coding.signed ? Int8Array : Uint8Array) : coding.signed ? Int16Array : Uint16Array;
  return Typed.from(values);
}
