import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { browserJpeg } from './jpeg-tile';
import { DisplayRange, isEightBit, pngTile, shownSamples, valueRange } from './lossless-tile';
import { JPEG, pixelSize, StoredLevel, storedLevel } from './pyramid-level';
import { RangeSource } from './range-source';
import { SlideError } from './slide-error';
import { SlideLevel, SlideTileSource } from './slide-tile-source';
import { readTiffDirectory, readTiffHeader } from './tiff-directory';

const inflate = promisify(zlib.inflate);

/** One tile as the browser takes it. */
export interface SlideTile {
  readonly contentType: 'image/jpeg' | 'image/png';
  readonly body: Buffer;
}

/** A pyramidal tiled TIFF behind a URL, its header and directories read, its tiles read on request. */
export interface Slide extends SlideTileSource {
  /** What the browser's `showSlide` needs, as plain JSON. */
  tileSource(): SlideTileSource;
  /**
   * Tile `column`, `row` of `level` (0 the full resolution): a JPEG tile as stored with its level's
   * tables, any other as a lossless PNG. Edge tiles are whole, padded as the file stores them.
   */
  tile(level: number, column: number, row: number): Promise<SlideTile>;
}

export interface OpenSlideOptions {
  /** The fetch that reads the slide's URL. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** More levels than a pyramid halving from 2^31 pixels has: a bound on a looping or damaged chain. */
const MAX_DIRECTORIES = 40;

/**
 * Opens the pyramidal TIFF at `url` (classic or BigTIFF, either byte order) with HTTP Range
 * requests only: the header and the chain of directories, each with the values it points to, a
 * round trip or two per level. Level 0 is the first directory; each following tiled directory
 * half the size of the one before is the next level, and the chain's first other image (an
 * SVS label, say) ends the pyramid.
 */
export async function openSlide(url: string, options: OpenSlideOptions = {}): Promise<Slide> {
  const source = new RangeSource(url, options.fetch ?? globalThis.fetch);
  const { layout, first } = await readTiffHeader(source);
  const levels: StoredLevel[] = [];
  let micronsPerPixel: number | undefined;
  const visited = new Set<number>();
  for (let at = first; at !== 0;) {
    if (visited.has(at) || visited.size >= MAX_DIRECTORIES)
      throw new SlideError('the slide is damaged: its chain of directories loops or does not end', 502);
    visited.add(at);
    const directory = await readTiffDirectory(source, layout, at);
    const level = storedLevel(directory, layout, levels[0], levels.at(-1));
    if (!level) break;
    if (levels.length === 0) micronsPerPixel = pixelSize(directory);
    levels.push(level);
    at = directory.next;
  }
  return new TiffSlide(source, levels, micronsPerPixel);
}

class TiffSlide implements Slide {
  readonly width: number;
  readonly height: number;
  readonly tileSize: number;
  readonly levels: readonly SlideLevel[];
  private range: Promise<DisplayRange> | undefined;

  constructor(
    private readonly source: RangeSource,
    private readonly stored: readonly StoredLevel[],
    readonly micronsPerPixel: number | undefined,
  ) {
    this.width = stored[0].width;
    this.height = stored[0].height;
    this.tileSize = stored[0].samples.tileSize;
    this.levels = stored.map(({ width, height, tilesAcross, tilesDown }) => ({
      width,
      height,
      tilesAcross,
      tilesDown,
    }));
  }

  tileSource(): SlideTileSource {
    return {
      width: this.width,
      height: this.height,
      tileSize: this.tileSize,
      levels: this.levels,
      ...(this.micronsPerPixel !== undefined && { micronsPerPixel: this.micronsPerPixel }),
    };
  }

  async tile(level: number, column: number, row: number): Promise<SlideTile> {
    const stored = this.stored[level];
    if (!stored || !Number.isInteger(level))
      throw new SlideError(
        `level ${level} is not in the slide: its levels are 0 (full resolution) to ${this.stored.length - 1}`,
        404,
      );
    const { tilesAcross, tilesDown } = stored;
    if (
      !Number.isInteger(column) ||
      !Number.isInteger(row) ||
      column < 0 ||
      row < 0 ||
      column >= tilesAcross ||
      row >= tilesDown
    )
      throw new SlideError(
        `tile ${column}_${row} is not in level ${level} of the slide: its columns are 0 to ${tilesAcross - 1}, its rows 0 to ${tilesDown - 1}`,
        404,
      );
    const index = row * tilesAcross + column;
    const bytes = await this.storedTile(stored, level, index);
    const where = `tile ${column}_${row} of level ${level}`;
    if (stored.compression === JPEG) {
      try {
        return { contentType: 'image/jpeg', body: browserJpeg(bytes, stored.jpegTables, stored.rgb) };
      } catch (err) {
        throw new SlideError(`${where} is damaged: ${(err as Error).message}`, 502);
      }
    }
    const raw = await this.rawTile(stored, bytes, where);
    const range = isEightBit(stored.samples) ? undefined : await this.displayRange();
    return { contentType: 'image/png', body: await pngTile(raw, stored.samples, range) };
  }

  private async storedTile(stored: StoredLevel, level: number, index: number): Promise<Buffer> {
    const count = stored.counts[index];
    if (count === 0) throw new SlideError(`tile ${index} of level ${level} is empty in the slide`, 404);
    return this.source.read(stored.offsets[index], count);
  }

  /** A lossless tile's samples, uncompressed. */
  private async rawTile(stored: StoredLevel, bytes: Buffer, where: string): Promise<Buffer> {
    let raw = bytes;
    if (stored.compression !== 1) {
      try {
        raw = await inflate(bytes);
      } catch (err) {
        throw new SlideError(`${where} is damaged: ${(err as Error).message}`, 502);
      }
    }
    const { tileSize, samplesPerPixel, bytes: sampleBytes } = stored.samples;
    const expected = tileSize * tileSize * samplesPerPixel * sampleBytes;
    if (raw.length < expected)
      throw new SlideError(
        `${where} is damaged: it holds ${raw.length} bytes of samples, not ${expected}`,
        502,
      );
    return raw;
  }

  /**
   * The values drawn black and white for samples that are not 8-bit: the lowest and highest of
   * the smallest level, which samples the whole slide, read once, on the first tile that needs it.
   */
  private displayRange(): Promise<DisplayRange> {
    this.range ??= (async () => {
      const level = this.stored.length - 1;
      const smallest = this.stored[level];
      let min = Infinity;
      let max = -Infinity;
      for (let index = 0; index < smallest.offsets.length; index++) {
        const column = index % smallest.tilesAcross;
        const row = Math.floor(index / smallest.tilesAcross);
        const where = `tile ${column}_${row} of level ${level}`;
        const raw = await this.rawTile(smallest, await this.storedTile(smallest, level, index), where);
        const tileSize = smallest.samples.tileSize;
        const part = valueRange(
          shownSamples(raw, smallest.samples),
          smallest.samples.rgb ? 3 : 1,
          tileSize,
          smallest.width - column * tileSize,
          smallest.height - row * tileSize,
        );
        min = Math.min(min, part.min);
        max = Math.max(max, part.max);
      }
      return { min, max };
    })();
    // A failed read is tried again by the next tile rather than remembered.
    this.range.catch(() => (this.range = undefined));
    return this.range;
  }
}
