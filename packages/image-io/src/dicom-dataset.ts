import * as dicomParser from 'dicom-parser';
import * as zlib from 'node:zlib';
import { ConversionLimits } from './conversion-limits';
import { reject, thrownText } from './rejection';

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
  return parsePart10(bytes, {
    inflater: (array: Uint8Array, position: number) => {
      const inflated = zlib.inflateRawSync(Buffer.from(array.buffer, array.byteOffset + position), {
        maxOutputLength: limits.maxImageBytes,
      });
      return Buffer.concat([Buffer.from(array.subarray(0, position)), inflated]);
    },
  } as dicomParser.ParseDicomOptions);
}

const IMPLICIT_LITTLE_ENDIAN = '1.2.840.10008.1.2';
const EXPLICIT_BIG_ENDIAN = '1.2.840.10008.1.2.2';
const VALUE_REPRESENTATIONS = new Set(
  'AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(
    ' ',
  ),
);

/**
 * Parses a Part 10 file with dicom-parser (a deflated one with `options.inflater`). A data set
 * written in implicit VR under a little-endian transfer syntax that says explicit VR, as some
 * writers do, is read in implicit VR, as pydicom and GDCM read it: told by its first element,
 * which has no VR where one is due. What cannot be parsed is refused with dicom-parser's reason.
 */
export function parsePart10(bytes: Uint8Array, options: dicomParser.ParseDicomOptions): dicomParser.DataSet {
  try {
    const meta = dicomParser.readPart10Header(bytes, options as { untilTag: string });
    const transferSyntax = meta.string('x00020010') ?? IMPLICIT_LITTLE_ENDIAN;
    const explicitLittleEndian = ![
      IMPLICIT_LITTLE_ENDIAN,
      EXPLICIT_BIG_ENDIAN,
      DEFLATED_TRANSFER_SYNTAX,
    ].includes(transferSyntax);
    const position = (meta as dicomParser.DataSet & { position: number }).position;
    if (explicitLittleEndian && lacksVr(bytes, position))
      return parseImplicit(bytes, meta, position, options);
    return dicomParser.parseDicom(bytes, options);
  } catch (err) {
    reject(`the DICOM file cannot be parsed: ${thrownReason(err)}`);
  }
}

/** True where the element at `position` has no VR where explicit VR puts one. */
function lacksVr(bytes: Uint8Array, position: number): boolean {
  if (position + 6 > bytes.length) return false;
  return !VALUE_REPRESENTATIONS.has(String.fromCharCode(bytes[position + 4], bytes[position + 5]));
}

/** dicom-parser's data set, whose constructor its type declarations leave out. */
type DataSetConstructor = new (
  parser: dicomParser.ByteArrayParser,
  bytes: dicomParser.ByteArray,
  elements: Record<string, dicomParser.Element>,
) => dicomParser.DataSet;

/** The data set after the meta group read in implicit VR little endian, the meta group's elements beside it. */
function parseImplicit(
  bytes: Uint8Array,
  meta: dicomParser.DataSet,
  position: number,
  options: dicomParser.ParseDicomOptions,
): dicomParser.DataSet {
  const parser = dicomParser.littleEndianByteArrayParser;
  const { DataSet } = dicomParser as unknown as { DataSet: DataSetConstructor };
  const data = new DataSet(parser, bytes, {});
  const stream = new dicomParser.ByteStream(parser, bytes, position);
  // Encapsulated pixel data opens with an item, as a sequence does: its VR tells them apart.
  const vrCallback = (tag: string) => (tag === 'x7fe00010' ? 'OB' : undefined) as string;
  dicomParser.parseDicomDataSetImplicit(data, stream, bytes.length, {
    ...(options as { untilTag: string }),
    vrCallback,
  });
  const pixelData = data.elements.x7fe00010;
  if (pixelData?.hadUndefinedLength && options.untilTag !== 'x7fe00010') {
    // Its fragments, as dicom-parser finds them in explicit VR.
    const fragments = new dicomParser.ByteStream(parser, bytes, pixelData.dataOffset);
    dicomParser.findEndOfEncapsulatedElement(fragments, pixelData, data.warnings);
  }
  Object.assign(data.elements, meta.elements);
  return data;
}

/** dicom-parser's reason, its function names left out, a read past the end said plainly. */
function thrownReason(thrown: unknown): string {
  const reason = thrownText(thrown).replace(/^(dicomParser\.)?[\w.]+:\s*/, '');
  return /past end of buffer|buffer overread|buffer overrun/.test(reason)
    ? 'it ends inside an element (the file is cut short, or a length in it is wrong)'
    : reason;
}

/** The transfer syntax of a parsed file; implicit VR little endian when the meta group omits it. */
export function transferSyntaxOf(data: dicomParser.DataSet): string {
  return data.string('x00020010') ?? '1.2.840.10008.1.2';
}
