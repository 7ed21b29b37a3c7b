import type { IncomingMessage } from 'node:http';

/** The object a CopyObject or UploadPartCopy reads, as its `x-amz-copy-source` header names it. */
export interface CopySource {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

/** The copy source of a request, or undefined when it copies nothing or names no object. */
export function copySourceOf(req: IncomingMessage): CopySource | undefined {
  const header = req.headers['x-amz-copy-source'];
  if (typeof header !== 'string') return undefined;
  const [location, query = ''] = header.replace(/^\//, '').split('?', 2);
  const slash = location.indexOf('/');
  if (slash <= 0 || slash === location.length - 1) return undefined;
  try {
    const versionId = new URLSearchParams(query).get('versionId') ?? undefined;
    return {
      bucket: decodeURIComponent(location.slice(0, slash)),
      key: decodeURIComponent(location.slice(slash + 1)),
      ...(versionId !== undefined && { versionId }),
    };
  } catch {
    return undefined;
  }
}

/** The bytes an UploadPartCopy takes from a source of `size` bytes, inclusive, or why S3 refuses its range. */
export type CopyRange =
  | { readonly ok: true; readonly start: number; readonly end: number }
  | { readonly ok: false; readonly message: string };

/**
 * `x-amz-copy-source-range` (`bytes=first-last`) read against the source's size, as S3 reads it;
 * without the header the whole source is copied.
 */
export function copyRangeOf(req: IncomingMessage, size: number): CopyRange {
  const header = req.headers['x-amz-copy-source-range'];
  if (header === undefined) return { ok: true, start: 0, end: size - 1 };
  const match = /^bytes=(\d+)-(\d+)$/.exec(String(header));
  if (!match || Number(match[1]) > Number(match[2])) {
    return {
      ok: false,
      message:
        'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
    };
  }
  const [start, end] = [Number(match[1]), Number(match[2])];
  if (end >= size)
    return { ok: false, message: `Range specified is not valid for source object of size: ${size}` };
  return { ok: true, start, end };
}
