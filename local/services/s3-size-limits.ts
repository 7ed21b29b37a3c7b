import * as fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type S3rver from 's3rver';
import { MAX_SINGLE_REQUEST_BYTES } from '../../lambda/contracts/s3-limits';
import { copyRangeOf, copySourceOf } from './s3-copy-source';

/**
 * S3's limit on what one request writes, which s3rver does not enforce: a PutObject or UploadPart
 * over 5 GiB is refused with EntityTooLarge, and a CopyObject or UploadPartCopy that would copy
 * more than 5 GiB with InvalidRequest, as AWS answers them. The sizes are read from the request's
 * declared length and from the stored source before any body is read, so nothing is stored.
 * (Parts under 5 MiB but the last are refused when the upload is completed: s3rver-multipart.ts.)
 */
export interface S3Refusal {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  /** Further elements of S3's error document. */
  readonly details?: Readonly<Record<string, string | number>>;
}

type FilesystemStore = S3rver['store'];

/** Subresources whose PUT writes no object content. */
const SUBRESOURCES = ['tagging', 'acl', 'retention', 'legal-hold', 'cors', 'website'];

export async function checkSizeLimits(
  store: FilesystemStore,
  req: IncomingMessage,
): Promise<S3Refusal | undefined> {
  const url = new URL(req.url ?? '/', 'http://s3');
  const [, bucket, ...keyParts] = url.pathname.split('/');
  if (req.method !== 'PUT' || !bucket || keyParts.join('/') === '') return undefined;
  if (SUBRESOURCES.some((name) => url.searchParams.has(name))) return undefined;
  const isPart = url.searchParams.has('uploadId');

  const source = copySourceOf(req);
  if (source) {
    const objectPath = store.getResourcePath(source.bucket, source.key, 'object');
    const stat = await fs.promises.stat(objectPath).catch(() => undefined);
    // A missing source is s3rver's (or the multipart handler's) NoSuchKey.
    if (!stat) return undefined;
    const range = isPart ? copyRangeOf(req, stat.size) : { ok: true as const, start: 0, end: stat.size - 1 };
    if (range.ok && range.end - range.start + 1 > MAX_SINGLE_REQUEST_BYTES) {
      return {
        status: 400,
        code: 'InvalidRequest',
        message: `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_SINGLE_REQUEST_BYTES}`,
      };
    }
    return undefined;
  }

  const declared = req.headers['x-amz-decoded-content-length'] ?? req.headers['content-length'];
  if (declared === undefined) {
    return {
      status: 411,
      code: 'MissingContentLength',
      message: 'You must provide the Content-Length HTTP header.',
    };
  }
  const size = Number(declared);
  if (size > MAX_SINGLE_REQUEST_BYTES) {
    return {
      status: 400,
      code: 'EntityTooLarge',
      message: 'Your proposed upload exceeds the maximum allowed size',
      details: { ProposedSize: size, MaxSizeAllowed: MAX_SINGLE_REQUEST_BYTES },
    };
  }
  return undefined;
}
