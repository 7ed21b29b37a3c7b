import { CodedFrame } from './frame-format';
import { reject } from './rejection';

/** The frame and first scan headers of a JPEG or JPEG-LS stream (ITU T.81 annex B, T.87). */
export interface JpegFrameHeader extends CodedFrame {
  /** The start-of-frame marker's second byte: 0xc0 baseline, 0xc1 extended, 0xc3 lossless, 0xf7 JPEG-LS. */
  readonly process: number;
  /** Predictor selection value of the first scan (lossless), 0 for DCT. */
  readonly predictor: number;
  /** Point transform of the first scan (lossless). */
  readonly pointTransform: number;
}

const PROCESSES: Record<number, string> = {
  0xc0: 'baseline',
  0xc1: 'extended sequential',
  0xc2: 'progressive',
  0xc3: 'lossless',
  0xc5: 'hierarchical',
  0xc6: 'hierarchical progressive',
  0xc7: 'hierarchical lossless',
  0xc9: 'arithmetic-coded extended',
  0xca: 'arithmetic-coded progressive',
  0xcb: 'arithmetic-coded lossless',
  0xcd: 'arithmetic-coded hierarchical',
  0xce: 'arithmetic-coded hierarchical progressive',
  0xcf: 'arithmetic-coded hierarchical lossless',
  0xf7: 'JPEG-LS',
};

/** The name of a start-of-frame marker, for refusals. */
export function jpegProcessName(process: number): string {
  return PROCESSES[process] ?? `marker 0x${process.toString(16)}`;
}

/**
 * Reads the markers of a JPEG-family stream up to its first scan, every length checked against
 * the frame, so that a decoder is chosen and the sizes compared before any decoding happens.
 */
export function readJpegFrameHeader(codec: string, frame: Buffer): JpegFrameHeader {
  if (frame.length < 4 || frame[0] !== 0xff || frame[1] !== 0xd8) {
    reject(`the ${codec} frame does not start with a JPEG start-of-image marker`);
  }
  let at = 2;
  let header: Omit<JpegFrameHeader, 'predictor' | 'pointTransform'> | undefined;
  for (;;) {
    // Markers may be preceded by fill bytes 0xff.
    while (at < frame.length && frame[at] === 0xff && frame[at + 1] === 0xff) at++;
    if (at + 4 > frame.length || frame[at + 1] === 0xd9) {
      reject(`the ${codec} frame ends before its first scan`);
    }
    if (frame[at] !== 0xff) reject(`the ${codec} frame has no marker where one is due (byte ${at})`);
    const marker = frame[at + 1];
    const length = frame.readUInt16BE(at + 2);
    const segment = at + 4;
    if (length < 2 || at + 2 + length > frame.length) {
      reject(`the ${codec} frame is truncated inside a marker segment (byte ${at})`);
    }
    if (PROCESSES[marker] !== undefined) {
      if (header) reject(`the ${codec} frame has two frame headers`);
      if (length < 8) reject(`the ${codec} frame header is too short`);
      const components = frame[segment + 5];
      if (length < 8 + 3 * components) reject(`the ${codec} frame header is too short for its components`);
      header = {
        process: marker,
        precision: frame[segment],
        rows: frame.readUInt16BE(segment + 1),
        columns: frame.readUInt16BE(segment + 3),
        components,
      };
    } else if (marker === 0xda) {
      if (!header) reject(`the ${codec} frame starts a scan before its frame header`);
      const components = frame[segment];
      const tail = segment + 1 + 2 * components;
      if (length < 6 + 2 * components) reject(`the ${codec} scan header is too short`);
      return { ...header, predictor: frame[tail], pointTransform: frame[tail + 2] & 0x0f };
    }
    at += 2 + length;
  }
}
