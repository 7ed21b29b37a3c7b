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
