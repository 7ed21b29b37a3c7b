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
 * problem when the header and sizes agree. Compressed voxel data and a TIFF's inner structure are judged
 * only when the converter reads them.
 */
export function checkOutputImage(file: OutputImageFile): OutputImageCheck {
  if (/\.tiff?$/i.test(file.name)) {
    const magic = file.head.subarray(0, 4).toString('latin1');
    return ['II*\0', 'MM\0*', 'II+\0', 'MM\0+'].includes(magic)
      ? {}
      : { problem: 'the file does not start with a TIFF header' };
  }
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
