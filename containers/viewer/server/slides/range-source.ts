import { SlideError } from './slide-error';

/** A read that takes longer has stalled: the tile or directory is refused rather than awaited for ever. */
const READ_TIMEOUT_MS = 30_000;

/** Smallest read of the file's header and directories: one round trip usually holds a directory and its values. */
const METADATA_READ_BYTES = 16 * 1024;

/**
 * The bytes of one file behind a URL, read only with HTTP Range requests: the viewer holds no
 * right to the bucket, only the signed URL, and a slide is far larger than what one view needs.
 * Reads of the header and directories are kept (`metadata`); tile reads are not (`read`).
 */
export class RangeSource {
  private readonly chunks: { start: number; bytes: Buffer }[] = [];
  /** The file's length, once a response has stated it. */
  size: number | undefined;

  constructor(
    private readonly url: string,
    private readonly fetcher: typeof fetch,
  ) {}

  /** Bytes [offset, offset + length) of the header or a directory, from what was read before where it can. */
  async metadata(offset: number, length: number): Promise<Buffer> {
    const held = this.chunks.find((c) => c.start <= offset && offset + length <= c.start + c.bytes.length);
    if (held) return held.bytes.subarray(offset - held.start, offset - held.start + length);
    let wanted = Math.max(length, METADATA_READ_BYTES);
    if (this.size !== undefined) wanted = Math.max(length, Math.min(wanted, this.size - offset));
    const bytes = await this.fetchRange(offset, wanted);
    this.chunks.push({ start: offset, bytes });
    if (bytes.length < length)
      throw new SlideError(
        `the slide ends at byte ${offset + bytes.length}, before the ${length} bytes at ${offset} that its directory names`,
        502,
      );
    return bytes.subarray(0, length);
  }

  /** Bytes [offset, offset + length) exactly, read now and not kept. */
  async read(offset: number, length: number): Promise<Buffer> {
    const bytes = await this.fetchRange(offset, length);
    if (bytes.length !== length)
      throw new SlideError(
        `the slide ends before the ${length} bytes at ${offset} that its directory names`,
        502,
      );
    return bytes;
  }

  private async fetchRange(offset: number, length: number): Promise<Buffer> {
    let response: Response;
    try {
      response = await this.fetcher(this.url, {
        headers: { range: `bytes=${offset}-${offset + length - 1}` },
        signal: AbortSignal.timeout(READ_TIMEOUT_MS),
      });
    } catch (err) {
      // The URL holds its signature: the error names the reason, never the URL.
      throw new SlideError(`the slide cannot be reached: ${(err as Error).message}`, 502);
    }
    if (response.status === 416) {
      await response.body?.cancel();
      throw new SlideError(`the slide ends before byte ${offset} that its directory names`, 502);
    }
    if (response.status !== 206) {
      await response.body?.cancel();
      throw new SlideError(
        response.ok
          ? `the slide's server answered ${response.status} to a range request, not 206: it would send the whole file`
          : `the slide's server refused the read (HTTP ${response.status})`,
        502,
      );
    }
    const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get('content-range')?.trim() ?? '');
    if (!range || Number(range[1]) !== offset) {
      await response.body?.cancel();
      throw new SlideError(
        `the slide's server answered bytes other than those asked for (at ${offset})`,
        502,
      );
    }
    if (range[2] !== '*') this.size = Number(range[2]);
    return Buffer.from(await response.arrayBuffer());
  }
}
