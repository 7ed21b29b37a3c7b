/**
 * S3's limits on the size of what one request writes, as AWS documents them ("Amazon S3
 * multipart upload limits"): what the platform's copies and uploads are cut to, and what local
 * mode's S3 refuses, written once.
 */

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** Largest object one PutObject or CopyObject writes, and largest part of a multipart upload. */
export const MAX_SINGLE_REQUEST_BYTES = 5 * GiB;

/** Smallest part of a multipart upload, but the last. */
export const MIN_PART_BYTES = 5 * MiB;

/** Most parts in one multipart upload. */
export const MAX_PARTS = 10_000;

/** Largest object S3 stores. */
export const MAX_OBJECT_BYTES = 5 * 1024 * GiB;

/**
 * The part size for an object of `bytes`: `preferredPartBytes`, grown in whole MiB when the
 * object would otherwise need more than 10,000 parts. A preferred size outside S3's part limits,
 * or an object larger than S3 stores, is refused.
 */
export function partSizeFor(bytes: number, preferredPartBytes: number): number {
  if (
    !Number.isSafeInteger(preferredPartBytes) ||
    preferredPartBytes < MIN_PART_BYTES ||
    preferredPartBytes > MAX_SINGLE_REQUEST_BYTES
  ) {
    throw new Error(
      `a part size of ${preferredPartBytes} bytes is outside S3's limits (${MIN_PART_BYTES} to ${MAX_SINGLE_REQUEST_BYTES})`,
    );
  }
  if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > MAX_OBJECT_BYTES) {
    throw new Error(`an object of ${bytes} bytes is larger than S3 stores (${MAX_OBJECT_BYTES})`);
  }
  return Math.max(preferredPartBytes, Math.ceil(bytes / MAX_PARTS / MiB) * MiB);
}
