import * as dicomParser from 'dicom-parser';
import * as zlib from 'node:zlib';
import { ConversionLimits } from './conversion-limits';
import { reject } from './rejection';

/** Deflated explicit VR little endian: the data set after the meta group is one deflate stream. */
export const DEFLATED_TRANSFER_SYNTAX = '1.2.840.10008.1.2.1.99';

export function isDicom(bytes: Buffer): boolean {
  return bytes.length > 132 && bytes.toString('latin1', 128, 132) === 'DICM';
}

/**
 * Parses a DICOM Part 10 file, inflating a deflated data set no further than the largest image
 * allowed. Pixel data stays where it is in the file; nothing is decoded here.
 */
export function parseDicomDataSet(bytes: Buffer, limits: ConversionLimits): dicomParser.DataSet {
  if (!isDicom(bytes)) reject('not a DICOM Part 10 file (no DICM marker at byte 128)');
  try {
    return dicomParser.parseDicom(bytes, {
      inflater: (array: Uint8Array, position: number) => {
        const inflated = zlib.inflateRawSync(Buffer.from(array.buffer, array.byteOffset + position), {
          maxOutputLength: limits.maxImageBytes,
        });
        return Buffer.concat([Buffer.from(array.subarray(0, position)), inflated]);
      },
    } as dicomParser.ParseDicomOptions);
  } catch (err) {
    reject(`the DICOM file cannot be parsed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The transfer syntax of a parsed file; implicit VR little endian when the meta group omits it. */
export function transferSyntaxOf(data: dicomParser.DataSet): string {
  return data.string('x00020010') ?? '1.2.840.10008.1.2';
}
