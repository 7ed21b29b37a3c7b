import { reject } from './rejection';

/**
 * A decoder of lossless JPEG (ITU T.81 process 14: Huffman-coded, annex H), written for speed and
 * for hostile input: every marker length, table and run is checked against the stream, the
 * output is sized by the caller (never by the stream), and a scan that runs out of data, meets a
 * marker where a code is due or holds a code no table has is refused, not padded.
 *
 * Reads any predictor (1 to 7), precisions 2 to 16, one or more components in one or several
 * scans (sampling factors 1), and restart intervals of whole rows. Point transforms are refused by
 * the caller. Samples are written interleaved, as wide as the output array.
 */
export function decodeLosslessJpeg(
  stream: Uint8Array,
  out: Uint8Array | Uint16Array,
  expected: { readonly rows: number; readonly columns: number; readonly components: number },
): void {
  const tables: (HuffmanTable | undefined)[] = [];
  let frame: { precision: number; rows: number; columns: number; ids: number[] } | undefined;
  let restartInterval = 0;
  const decoded = new Set<number>();
  let at = 2; // after the start-of-image marker, which the caller has checked
  for (;;) {
    while (at + 1 < stream.length && stream[at] === 0xff && stream[at + 1] === 0xff) at++;
    // A frame whose every component is decoded may lack its end-of-image marker.
    if (at + 2 > stream.length && frame && decoded.size === frame.ids.length) break;
    if (at + 2 > stream.length) reject('the JPEG lossless frame ends before its end-of-image marker');
    if (stream[at] !== 0xff) reject(`the JPEG lossless frame has no marker where one is due (byte ${at})`);
    const marker = stream[at + 1];
    if (marker === 0xd9) break;
    // Markers without a segment: a restart marker where none is due is skipped.
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2;
      continue;
    }
    if (at + 4 > stream.length) reject('the JPEG lossless frame is truncated inside a marker');
    const length = (stream[at + 2] << 8) | stream[at + 3];
    const body = at + 4;
    const next = at + 2 + length;
    if (length < 2 || next > stream.length) {
      reject(`the JPEG lossless frame is truncated inside a marker segment (byte ${at})`);
    }
    if (marker === 0xc3) {
      if (frame) reject('the JPEG lossless frame has two frame headers');
      frame = readFrameHeader(stream, body, length, expected);
    } else if (marker === 0xc4) {
      readHuffmanTables(stream, body, next, tables);
    } else if (marker === 0xdd) {
      if (length !== 4) reject('the JPEG lossless restart interval segment has the wrong length');
      restartInterval = (stream[body] << 8) | stream[body + 1];
    } else if (marker === 0xda) {
      if (!frame) reject('the JPEG lossless frame starts a scan before its frame header');
      const scan = readScanHeader(stream, body, length, frame.ids, tables);
      for (const c of scan.components) {
        if (decoded.has(c.index)) reject('the JPEG lossless frame codes a component in two scans');
        decoded.add(c.index);
      }
      if (restartInterval % frame.columns !== 0) {
        reject(`the JPEG lossless restart interval of ${restartInterval} is not a whole number of rows`);
      }
      at = decodeScan(stream, next, out, frame, scan, restartInterval / frame.columns);
      continue;
    } else if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      reject('the JPEG lossless frame holds a second kind of frame header');
    }
    at = next;
  }
  if (!frame) reject('the JPEG lossless frame has no frame header');
  if (decoded.size !== frame.ids.length) {
    reject(`the JPEG lossless frame codes ${decoded.size} of its ${frame.ids.length} components`);
  }
}

/**
 * Canonical Huffman codes of one table (T.81 annex C, F.2.2.3), with a lookup table by the next
 * 11 bits: for a code and its extra bits that fit in them, `difference << 9 | 256 | bits used`;
 * for a code that fits without its extra bits, `size << 9 | bits used`; 0 for longer codes.
 */
interface HuffmanTable {
  readonly fast: Int32Array;
  /** For lengths 1 to 16: the greatest code of that length (-1 if none), and where its symbols start. */
  readonly maxCode: Int32Array;
  readonly offset: Int32Array;
  readonly symbols: Uint8Array;
}

/** Bits looked up at once: codes of up to 11 bits, with their extra bits where those fit too. */
const FAST_BITS = 11;

function readFrameHeader(
  stream: Uint8Array,
  body: number,
  length: number,
  expected: { readonly rows: number; readonly columns: number; readonly components: number },
) {
  const precision = stream[body];
  const rows = (stream[body + 1] << 8) | stream[body + 2];
  const columns = (stream[body + 3] << 8) | stream[body + 4];
  const count = stream[body + 5];
  if (length !== 8 + 3 * count) reject('the JPEG lossless frame header has the wrong length');
  if (precision < 2 || precision > 16) reject(`the JPEG lossless frame has a precision of ${precision} bits`);
  if (rows !== expected.rows || columns !== expected.columns || count !== expected.components) {
    reject(
      `the JPEG lossless frame is ${columns} x ${rows} with ${count} components; the DICOM header says ${expected.columns} x ${expected.rows} with ${expected.components}`,
    );
  }
  const ids: number[] = [];
  for (let c = 0; c < count; c++) {
    if (stream[body + 7 + 3 * c] !== 0x11) reject('the JPEG lossless frame subsamples a component');
    ids.push(stream[body + 6 + 3 * c]);
  }
  if (new Set(ids).size !== ids.length) reject('the JPEG lossless frame names a component twice');
  return { precision, rows, columns, ids };
}

function readHuffmanTables(
  stream: Uint8Array,
  at: number,
  end: number,
  tables: (HuffmanTable | undefined)[],
) {
  while (at < end) {
    if (at + 17 > end) reject('a JPEG lossless Huffman table is truncated');
    const slot = stream[at] & 0x0f;
    if (stream[at] >> 4 !== 0 || slot > 3) reject('a JPEG lossless Huffman table is not a DC table 0 to 3');
    const counts = stream.subarray(at + 1, at + 17);
    const total = counts.reduce((a, b) => a + b, 0);
    if (at + 17 + total > end) reject('a JPEG lossless Huffman table is truncated');
    tables[slot] = huffmanTable(counts, stream.subarray(at + 17, at + 17 + total));
    at += 17 + total;
  }
}

function huffmanTable(counts: Uint8Array, symbols: Uint8Array): HuffmanTable {
  const fast = new Int32Array(1 << FAST_BITS);
  const maxCode = new Int32Array(17).fill(-1);
  const offset = new Int32Array(17);
  let code = 0;
  let k = 0;
  const widest = symbols.reduce((a, b) => Math.max(a, b), 0);
  if (widest > 16)
    reject(`a JPEG lossless Huffman table codes a difference of ${widest} bits; 16 is the most`);
  for (let length = 1; length <= 16; length++) {
    const n = counts[length - 1];
    offset[length] = k - code;
    for (let i = 0; i < n; i++, k++, code++) {
      if (code >= 1 << length) reject('a JPEG lossless Huffman table has more codes than fit their lengths');
      if (length <= FAST_BITS) fillFast(fast, code, length, symbols[k]);
    }
    if (n > 0) maxCode[length] = code - 1;
    code <<= 1;
  }
  return { fast, maxCode, offset, symbols };
}

/** The lookup entries of every 11-bit sequence that starts with `code`. */
function fillFast(fast: Int32Array, code: number, length: number, size: number): void {
  const first = code << (FAST_BITS - length);
  const span = 1 << (FAST_BITS - length);
  if (size === 0 || size === 16 || length + size > FAST_BITS) {
    const entry =
      size === 0 || size === 16 ? ((size === 16 ? 32768 : 0) << 9) | 256 | length : (size << 9) | length;
    fast.fill(entry, first, first + span);
    return;
  }
  // The extra bits follow the code: each of their values is its own difference (F.1.2.1).
  const rest = FAST_BITS - length - size;
  for (let value = 0; value < 1 << size; value++) {
    const difference = value < 1 << (size - 1) ? value - (1 << size) + 1 : value;
    const start = first + (value << rest);
    fast.fill((difference << 9) | 256 | (length + size), start, start + (1 << rest));
  }
}

interface ScanComponent {
  /** Position of the component in the frame, which is its place among interleaved samples. */
  readonly index: number;
  readonly table: HuffmanTable;
}

function readScanHeader(
  stream: Uint8Array,
  body: number,
  length: number,
  ids: readonly number[],
  tables: readonly (HuffmanTable | undefined)[],
) {
  const count = stream[body];
  if (count < 1 || length !== 6 + 2 * count) reject('the JPEG lossless scan header has the wrong length');
  const components: ScanComponent[] = [];
  for (let c = 0; c < count; c++) {
    const index = ids.indexOf(stream[body + 1 + 2 * c]);
    if (index < 0) reject('the JPEG lossless scan names a component its frame has not');
    const table = tables[stream[body + 2 + 2 * c] >> 4];
    if (!table) reject('the JPEG lossless scan uses a Huffman table the frame has not defined');
    components.push({ index, table });
  }
  const tail = body + 1 + 2 * count;
  const predictor = stream[tail];
  if (predictor < 1 || predictor > 7)
    reject(`the JPEG lossless frame names predictor ${predictor}; 1 to 7 are valid`);
  if ((stream[tail + 2] & 0x0f) !== 0)
    reject('the JPEG lossless frame uses a point transform, which is not read');
  return { components, predictor };
}

/**
 * Decodes the entropy-coded data of one scan from `at` into `out`, returning where the marker
 * after it starts. Samples of the scan's components alternate (one of each per position). Each
 * row's first sample is predicted from the one above, and the first row of the scan and of each
 * restart interval from its left neighbour, starting at 2^(P-1) (H.1.2.1). The bit reading is
 * written out here, on local variables, because this loop is most of the time a series takes.
 */
function decodeScan(
  stream: Uint8Array,
  at: number,
  out: Uint8Array | Uint16Array,
  frame: {
    readonly precision: number;
    readonly rows: number;
    readonly columns: number;
    readonly ids: number[];
  },
  scan: { readonly components: readonly ScanComponent[]; readonly predictor: number },
  restartRows: number,
): number {
  const { rows, columns } = frame;
  const stride = frame.ids.length;
  const line = columns * stride;
  const initial = 1 << (frame.precision - 1);
  const { predictor } = scan;
  const indexes = scan.components.map((c) => c.index);
  const tables = scan.components.map((c) => c.table);
  const count = indexes.length;
  const intervals = restartRows > 0 ? Math.ceil(rows / restartRows) : 1;
  const { data, ends, marker } = entropyCodedData(stream, at, intervals);
  const fastMask = (1 << FAST_BITS) - 1;
  let interval = 0;
  let read = 0;
  let buffer = 0;
  let bits = 0; // in `buffer`, not yet consumed: at most 32
  for (let y = 0; y < rows; y++) {
    const fresh = y === 0 || (restartRows > 0 && y % restartRows === 0);
    if (fresh && y > 0) {
      if (read * 8 - bits > ends[interval] * 8) cut();
      read = ends[interval++];
      buffer = 0;
      bits = 0;
    }
    // One loop over the row's samples: component `s` of the position `x`, in coding order.
    for (let x = 0, s = 0, position = y * line; x < columns;) {
      const i = position + indexes[s];
      const table = tables[s];
      // The difference: its size Huffman-coded (F.2.2.3), then that many bits, the top one clear
      // for negative values (F.1.2.1); both by one lookup where they fit in FAST_BITS.
      while (bits <= 24) {
        buffer = (buffer << 8) | data[read++];
        bits += 8;
      }
      const entry = table.fast[(buffer >>> (bits - FAST_BITS)) & fastMask];
      let difference: number;
      if ((entry & 256) !== 0) {
        bits -= entry & 255;
        difference = entry >> 9;
      } else {
        let size = entry >> 9;
        if (entry !== 0) bits -= entry & 255;
        else {
          let length = FAST_BITS + 1;
          for (; length <= 16; length++) {
            const code = (buffer >>> (bits - length)) & ((1 << length) - 1);
            if (code <= table.maxCode[length]) {
              size = table.symbols[table.offset[length] + code];
              break;
            }
          }
          if (length > 16) reject('the JPEG lossless frame holds a code its Huffman table has not');
          bits -= length;
        }
        if (size === 16) difference = 32768;
        else {
          while (bits <= 24) {
            buffer = (buffer << 8) | data[read++];
            bits += 8;
          }
          const value = (buffer >>> (bits - size)) & ((1 << size) - 1);
          bits -= size;
          difference = value < 1 << (size - 1) ? value - (1 << size) + 1 : value;
        }
      }
      let p: number;
      if (x === 0) p = fresh ? initial : out[i - line];
      else if (fresh) p = out[i - stride];
      else {
        const a = out[i - stride];
        const b = out[i - line];
        const c = out[i - line - stride];
        switch (predictor) {
          case 1:
            p = a;
            break;
          case 2:
            p = b;
            break;
          case 3:
            p = c;
            break;
          case 4:
            p = a + b - c;
            break;
          case 5:
            p = a + ((b - c) >> 1);
            break;
          case 6:
            p = b + ((a - c) >> 1);
            break;
          default:
            p = (a + b) >> 1;
        }
      }
      // Differences are modulo 2^16 (H.1.2.1).
      out[i] = (p + difference) & 0xffff;
      if (++s === count) {
        s = 0;
        x++;
        position += stride;
      }
    }
  }
  if (read * 8 - bits > ends[interval] * 8) cut();
  return marker;
}

function cut(): never {
  return reject('the JPEG lossless frame is truncated or damaged: its data ends before its last sample');
}

/**
 * The entropy-coded bytes of a scan with stuffed zero bytes removed and its restart markers
 * (numbered 0 to 7 in turn) taken out: `ends[k]` is where interval k's bytes end. Zero bytes
 * follow the data, so codes can be looked ahead of; reading into them is a cut-short scan.
 * `marker` is where the marker after the scan starts.
 */
function entropyCodedData(stream: Uint8Array, at: number, intervals: number) {
  // Lookahead past the end reads at most 8 bytes; padding keeps every read inside the array.
  const data = new Uint8Array(stream.length - at + 8);
  const ends: number[] = [];
  let length = 0;
  let i = at;
  while (i < stream.length) {
    // Bytes up to the next 0xff are the data as they are: copied at once.
    const ff = stream.indexOf(0xff, i);
    const run = (ff < 0 ? stream.length : ff) - i;
    data.set(stream.subarray(i, i + run), length);
    length += run;
    i += run;
    if (ff < 0) break;
    const next = stream[i + 1];
    if (next === 0x00) {
      data[length++] = 0xff;
      i += 2;
    } else if (next === 0xff)
      i++; // fill byte before a marker
    else if (next >= 0xd0 && next <= 0xd7 && ends.length < intervals - 1) {
      if (next !== 0xd0 + (ends.length & 7)) {
        reject(`the JPEG lossless frame has restart marker ${next - 0xd0} where ${ends.length & 7} is due`);
      }
      ends.push(length);
      i += 2;
    } else break;
  }
  if (ends.length < intervals - 1) {
    reject(`the JPEG lossless frame has ${ends.length + 1} of its ${intervals} restart intervals`);
  }
  ends.push(length);
  return { data, ends, marker: i };
}
