import { DEFAULT_CONVERSION_LIMITS } from './conversion-limits';
import { readMetaImageHeader } from './metaimage-reader';
import { Rejection } from './rejection';

/** Bytes of a file's start that hold any header `outputImageProblem` reads. */
export const OUTPUT_IMAGE_HEAD_BYTES = DEFAULT_CONVERSION_LIMITS.maxHeaderBytes + 1024;

/** An image file an algorithm wrote, as far as its check reads it. */
export interface OutputImageFile {
  /** The file's name, with its extension. */
  readonly name: string;
  /** Its first bytes, at least `OUTPUT_IMAGE_HEAD_BYTES` of them when it is that long. */
  readonly head: Buffer;
  /** Its whole size. */
  readonly bytes: number;
  /** The size of another file beside it, by plain name; undefined when there is none. */
  readonly sizeOfSibling: (name: string) => number | undefined;
}

/** What the check found: why the output cannot be converted, or the file that holds its data. */
export interface OutputImageCheck {
  readonly problem?: string;
  /** The plain name of the data file a `.mhd` header names. */
  readonly dataFile?: string;
}

/**
 * Why an algorithm's image output (MetaImage `.mha`, `.mhd` with its data file, or TIFF) cannot
 * be converted, from its header and the sizes of its files, without reading its voxels; no
 * problem when the header and sizes agree. Compressed voxel data and a TIFF's directories and
 * tiles are judged only when the converter reads them.
 */
export function checkOutputImage(file: OutputImageFile): OutputImageCheck {
  if (/\.tiff?$/i.test(file.name)) return { problem: tiffProblem(file) };
  try {
    const header = readMetaImageHeader(file.head, DEFAULT_CONVERSION_LIMITS);
    let available: number;
    if (header.dataFile === 'LOCAL') {
      available = file.bytes - header.dataOffset;
    } else {
      const size = file.sizeOfSibling(header.dataFile);
      if (size === undefined) {
        return {
          problem: `the header names the data file "${header.dataFile}", which is not beside it in the output folder`,
        };
      }
      available = size;
    }
    if (!header.compressed && available < header.bytes) {
      return { problem: `the file is truncated: ${available} bytes of voxel data, ${header.bytes} expected` };
    }
    return header.dataFile === 'LOCAL' ? {} : { dataFile: header.dataFile };
  } catch (err) {
    if (err instanceof Rejection) return { problem: err.message };
    throw err;
  }
}

/** A TIFF header, and where it says the first image directory is: inside the file, past the header. */
function tiffProblem(file: OutputImageFile): string | undefined {
  const magic = file.head.subarray(0, 4).toString('latin1');
  const little = magic.startsWith('II');
  const big = magic === 'II+\0' || magic === 'MM\0+';
  if (!['II*\0', 'MM\0*'].includes(magic) && !big) return 'the file does not start with a TIFF header';
  const headerBytes = big ? 16 : 8;
  if (file.head.length < headerBytes) return 'the file is truncated inside its TIFF header';
  const offset = big
    ? Number(little ? file.head.readBigUInt64LE(8) : file.head.readBigUInt64BE(8))
    : little
      ? file.head.readUInt32LE(4)
      : file.head.readUInt32BE(4);
  if (offset < headerBytes) return `its TIFF header puts the first image directory at byte ${offset}`;
  if (offset >= file.bytes) {
    return `the file is truncated: its first image directory is at byte ${offset} of ${file.bytes}`;
  }
  return undefined;
}
