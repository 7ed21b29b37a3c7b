import * as dicomParser from 'dicom-parser';
import { reject } from './rejection';

/** Where some bytes lie: in the file, or in the inflated data set of a deflated one. */
export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

/**
 * Where each frame's stored bytes lie, read from the header so that a frame's bytes can be read
 * later without the rest of its file. Native pixel data: one range per frame, one after the
 * other. Encapsulated (compressed) pixel data: the fragments of each frame; all of them for a
 * single frame, else those the basic offset table assigns to it, or one per frame when there are
 * as many fragments as frames. Refuses pixel data that ends before its frames do, and fragments
 * that cannot be told apart.
 */
export function frameRanges(
  fileBytes: number,
  pixelData: dicomParser.Element,
  encapsulated: boolean,
  frames: number,
  frameBytes: number,
): ByteRange[][] {
  if (!encapsulated) {
    const expected = frameBytes * frames;
    const present = Math.min(pixelData.length, fileBytes - pixelData.dataOffset);
    if (present < expected) reject(`the pixel data is truncated: ${present} bytes, ${expected} expected`);
    return Array.from({ length: frames }, (_, frame) => [
      { offset: pixelData.dataOffset + frame * frameBytes, length: frameBytes },
    ]);
  }
  if (!pixelData.encapsulatedPixelData || !pixelData.fragments?.length) {
    reject('the compressed pixel data is not encapsulated');
  }
  const fragments = pixelData.fragments;
  if (fragments.some((f) => f.position + f.length > fileBytes)) {
    reject('a pixel data fragment is truncated');
  }
  const ranges = (list: readonly dicomParser.Fragment[]) =>
    list.map((f) => ({ offset: f.position, length: f.length }));
  if (frames === 1) return [ranges(fragments)];
  const table = pixelData.basicOffsetTable ?? [];
  if (table.length === frames) {
    return table.map((start, frame) => {
      const end = frame + 1 < frames ? table[frame + 1] : Infinity;
      if (!(end > start) || !fragments.some((f) => f.offset === start)) {
        reject(`the basic offset table does not point at a fragment for frame ${frame + 1}`);
      }
      return ranges(fragments.filter((f) => f.offset >= start && f.offset < end));
    });
  }
  if (fragments.length === frames) return fragments.map((f) => ranges([f]));
  return reject(
    `${fragments.length} pixel data fragments for ${frames} frames and no basic offset table: the frames cannot be told apart`,
  );
}
