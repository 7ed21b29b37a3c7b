/** Upload limits, set on the functions by the api stack from the platform configuration. */
export interface UploadSettings {
  readonly bucket: string;
  readonly partBytes: number;
  readonly quotaBytesUnverified: number;
  readonly quotaBytesVerified: number;
  /** Lifetime of a presigned part URL. */
  readonly partUrlSeconds: number;
}

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

export function uploadSettings(env: NodeJS.ProcessEnv = process.env): UploadSettings {
  const number = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value <= 0)
      throw new Error(`${name} must be a positive whole number`);
    return value;
  };
  const bucket = env.IMAGING_BUCKET;
  if (!bucket) throw new Error('IMAGING_BUCKET is not set');
  return {
    bucket,
    partBytes: number('UPLOAD_PART_BYTES', 32 * MiB),
    quotaBytesUnverified: number('UPLOAD_QUOTA_UNVERIFIED_BYTES', 2 * GiB),
    quotaBytesVerified: number('UPLOAD_QUOTA_VERIFIED_BYTES', 128 * GiB),
    partUrlSeconds: number('UPLOAD_PART_URL_SECONDS', 3600),
  };
}
