import * as fs from 'node:fs';
import * as path from 'node:path';
import { ItkImage, runItk } from './itk';

const ARRAYS: Record<string, (b: Buffer) => ArrayLike<number>> = {
  uint8: (b) => new Uint8Array(b.buffer, b.byteOffset, b.length),
  int8: (b) => new Int8Array(b.buffer, b.byteOffset, b.length),
  int16: (b) => new Int16Array(b.buffer, b.byteOffset, b.length / 2),
  uint16: (b) => new Uint16Array(b.buffer, b.byteOffset, b.length / 2),
  int32: (b) => new Int32Array(b.buffer, b.byteOffset, b.length / 4),
  float32: (b) => new Float32Array(b.buffer, b.byteOffset, b.length / 4),
};

/** An image as read by ITK, with its voxel values as numbers. */
export type ReadImage = ItkImage & { values: number[] };

/**
 * The converter's output for a DICOM series as ITK reads the .mha, beside GDCM's reading of the
 * same DICOM files: the pair every DICOM test compares.
 */
export async function convertedAndReference(
  dir: string,
  names: readonly string[],
  content: Buffer,
): Promise<{ converted: ReadImage; reference: ReadImage }> {
  const outPath = path.join(dir, `converted-${Math.random()}.mha`);
  fs.writeFileSync(outPath, content);
  const [reference, output] = await Promise.all([
    runItk('itk-dicom.mjs', { files: names.map((n) => path.join(dir, n)) }),
    runItk('itk-image.mjs', { read: outPath }),
  ]);
  const values = Array.from(ARRAYS[output.componentType](Buffer.from(output.data!, 'base64')));
  return { converted: { ...output, values }, reference: reference as ReadImage };
}
