import * as dicomParser from 'dicom-parser';
import type { InputFile } from './convert-image-files';
import { ConversionLimits } from './conversion-limits';
import {
  DEFLATED_TRANSFER_SYNTAX,
  isDicom,
  parseDicomDataSet,
  parsePart10,
  transferSyntaxOf,
} from './dicom-dataset';
import type { ReusedBuffer } from './disk-file';
import { reject } from './rejection';

/** Bytes of a file's start read for its header at first; four times more while the header runs on. */
const HEAD_BYTES = 64 * 1024;

/** The header of a DICOM file: its data set up to its pixel data, where that is, and the file's size. */
export interface DicomFileHeader {
  readonly data: dicomParser.DataSet;
  /** The pixel data element; for encapsulated data, its fragments and basic offset table too. */
  readonly pixelData: dicomParser.Element | undefined;
  /** Bytes of the file (of its inflated data set, for a deflated one). */
  readonly fileBytes: number;
}

/**
 * Reads a DICOM file's header, reading as little of the file as that needs where the file can be
 * read in ranges (on disk): its start up to the pixel data element, then, for compressed pixel
 * data, only the 8-byte header of each fragment. A large multi-frame file is so never held whole.
 * Files in memory, small files and deflated data sets (which must be inflated whole) are parsed
 * whole.
 */
export function readDicomFileHeader(
  input: InputFile,
  limits: ConversionLimits,
  reuse?: ReusedBuffer,
): DicomFileHeader {
  const whole = () => {
    const data = parseDicomDataSet(input.load(reuse), limits);
    return { data, pixelData: data.elements.x7fe00010, fileBytes: data.byteArray.length };
  };
  if (!input.readRange || input.size === undefined) return whole();
  const fileBytes = input.size;
  for (let bytes = HEAD_BYTES; bytes < fileBytes; bytes *= 4) {
    const head = input.readRange({ offset: 0, length: bytes }, reuse);
    if (!isDicom(head)) reject('not a DICOM Part 10 file (no DICM marker at byte 128)');
    let data: dicomParser.DataSet;
    try {
      data = parsePart10(head, { untilTag: 'x7fe00010' });
    } catch {
      continue; // the header runs past what was read
    }
    const pixelData = data.elements.x7fe00010;
    if (!pixelData) continue;
    if (transferSyntaxOf(data) === DEFLATED_TRANSFER_SYNTAX) return whole();
    if (!pixelData.hadUndefinedLength) return { data, pixelData, fileBytes };
    return {
      data,
      pixelData: { ...pixelData, ...fragmentsOf(input, pixelData.dataOffset, fileBytes, limits) },
      fileBytes,
    };
  }
  return whole();
}

const ITEM = 0xe000;
const SEQUENCE_END = 0xe0dd;

/**
 * The basic offset table and fragments of encapsulated pixel data from `start` on (PS3.5 A.4),
 * each item's header read on its own; as dicom-parser describes them, a fragment's offset counted
 * from the first fragment's item, as the offset table counts. Items that run past the file, a
 * missing end of sequence and more fragments than frames could need are refused.
 */
function fragmentsOf(input: InputFile, start: number, fileBytes: number, limits: ConversionLimits) {
  const item = (at: number) => {
    const header = input.readRange!({ offset: at, length: 8 });
    if (header.length < 8) reject('the compressed pixel data is truncated');
    const [group, element, length] = [header.readUInt16LE(0), header.readUInt16LE(2), header.readUInt32LE(4)];
    if (group !== 0xfffe || (element !== ITEM && element !== SEQUENCE_END)) {
      reject('the compressed pixel data has no item where one is due');
    }
    if (element === ITEM && at + 8 + length > fileBytes) reject('a pixel data fragment is truncated');
    return { end: element === SEQUENCE_END, length };
  };
  const table = item(start);
  if (table.end) reject('the compressed pixel data has no basic offset table item');
  const offsets =
    table.length > 0 ? input.readRange!({ offset: start + 8, length: table.length }) : Buffer.alloc(0);
  const basicOffsetTable = Array.from({ length: Math.floor(offsets.length / 4) }, (_, i) =>
    offsets.readUInt32LE(4 * i),
  );
  const fragments: dicomParser.Fragment[] = [];
  const first = start + 8 + table.length;
  for (let at = first; ;) {
    if (fragments.length > limits.maxAxisLength * 4)
      reject('the compressed pixel data has too many fragments');
    const { end, length } = item(at);
    if (end) break;
    fragments.push({ offset: at - first, position: at + 8, length });
    at += 8 + length;
  }
  return { encapsulatedPixelData: true, basicOffsetTable, fragments };
}
