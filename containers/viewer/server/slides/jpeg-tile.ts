/** JPEG markers that matter here. */
const SOI = 0xd8;
const EOI = 0xd9;
const APP14 = 0xee;
const SOS = 0xda;

/**
 * A JPEG tile as a browser decodes it, from the bytes the TIFF stores: the level's JPEGTables
 * (quantisation and Huffman tables, shared by every tile) spliced in front of an abbreviated tile,
 * nothing re-encoded. A tile that carries its own tables keeps them: later tables replace earlier.
 *
 * Colour: a TIFF says in PhotometricInterpretation whether its JPEG holds RGB or YCbCr, a browser
 * reads it from the stream (an Adobe marker, else component ids 'R','G','B' mean RGB, else YCbCr).
 * libvips writes RGB with an Adobe marker and libtiff YCbCr with ids 1, 2, 3, both read right as
 * stored; an RGB tile that states neither gets an Adobe marker saying "no transform".
 */
export function browserJpeg(tile: Buffer, tables: Buffer | undefined, rgb: boolean): Buffer {
  if (tile[0] !== 0xff || tile[1] !== SOI) throw new Error('the JPEG tile does not start with a JPEG header');
  const parts: Buffer[] = [];
  parts.push(Buffer.from([0xff, SOI]));
  if (rgb && !statesColours(tile)) parts.push(ADOBE_RGB);
  if (tables) {
    if (tables[0] !== 0xff || tables[1] !== SOI)
      throw new Error("the level's JPEGTables do not start with a JPEG header");
    // Tables-only stream: SOI, tables, EOI; its tables go between the tile's SOI and the rest.
    const end = tables.length >= 4 && tables[tables.length - 2] === 0xff && tables[tables.length - 1] === EOI;
    parts.push(tables.subarray(2, end ? tables.length - 2 : tables.length));
  }
  parts.push(tile.subarray(2));
  return Buffer.concat(parts);
}

/** An Adobe APP14 segment, version 100, transform 0: the three components are R, G, B. */
const ADOBE_RGB = Buffer.from([
  0xff,
  APP14,
  0x00,
  0x0e,
  0x41,
  0x64,
  0x6f,
  0x62,
  0x65,
  0x00,
  0x64,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
]);

/** Whether the stream, before its first scan, states its colours: an Adobe marker, or components named R, G, B. */
function statesColours(jpeg: Buffer): boolean {
  for (let at = 2; at + 4 <= jpeg.length;) {
    if (jpeg[at] !== 0xff) return false;
    const marker = jpeg[at + 1];
    if (marker === SOS || marker === EOI) return false;
    const length = jpeg.readUInt16BE(at + 2);
    if (marker === APP14 && jpeg.toString('latin1', at + 4, at + 9) === 'Adobe') return true;
    // Start of frame (baseline, extended, progressive): component count, then id, sampling, table.
    if ((marker === 0xc0 || marker === 0xc1 || marker === 0xc2) && at + 16 <= jpeg.length)
      return jpeg[at + 9] === 3 && jpeg[at + 10] === 0x52 && jpeg[at + 13] === 0x47 && jpeg[at + 16] === 0x42;
    at += 2 + length;
  }
  return false;
}
