import { flag, settingsGroup, wholeNumber } from './settings';

/** Limits of multipart uploads, from the platform configuration. */
export const UPLOAD_LIMITS = settingsGroup('the upload limits', {
  uploadPartBytes: wholeNumber,
  uploadQuotaUnverifiedBytes: wholeNumber,
  uploadQuotaVerifiedBytes: wholeNumber,
  /** Lifetime of a presigned part URL. */
  uploadPartUrlSeconds: wholeNumber,
  /** Days a Pending upload may wait before it is aborted. */
  incompleteUploadDays: wholeNumber,
});

/**
 * Whether part URLs use S3 Transfer Acceleration, which the data stack enables on the bucket;
 * local mode's S3 has no such endpoint.
 */
export const UPLOAD_ENDPOINT = settingsGroup('the endpoint of part URLs', { s3Accelerate: flag });

/**
 * Most uploads one image may be made of, whatever the configuration says: `POST /v1/images` claims
 * them within API Gateway's 29 s, and their ids fit well inside the API's 1 MiB body.
 */
export const MAX_UPLOADS_PER_IMAGE = 10_000;

/** Uploads one image may be made of (`limits.uploadsPerImage`), at most `MAX_UPLOADS_PER_IMAGE`. */
export const IMAGE_UPLOAD_LIMITS = settingsGroup('the uploads of one image', {
  uploadsPerImage: wholeNumber,
});
