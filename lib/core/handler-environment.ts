import { PlatformConfig } from '../config/platform-config';

/**
 * Settings that upload handlers read from their environment, derived from the platform
 * configuration. The api stack sets them on the functions; local mode sets the same values.
 */
export function uploadHandlerEnvironment(config: PlatformConfig): Record<string, string> {
  return {
    UPLOAD_PART_BYTES: String(config.limits.uploadPartBytes),
    UPLOAD_QUOTA_UNVERIFIED_BYTES: String(config.limits.uploadBytesUnverifiedUser),
    UPLOAD_QUOTA_VERIFIED_BYTES: String(config.limits.uploadBytesVerifiedUser),
    UPLOAD_PART_URL_SECONDS: '3600',
    INCOMPLETE_UPLOAD_DAYS: String(config.limits.incompleteUploadDays),
  };
}

/** Limits that job handlers read from their environment. */
export function jobHandlerEnvironment(config: PlatformConfig): Record<string, string> {
  return {
    ACTIVE_JOBS_PER_USER: String(config.limits.activeJobsPerUser),
    ACTIVE_JOBS_PER_ALGORITHM: String(config.limits.activeJobsPerAlgorithm),
    ACTIVE_JOBS_TOTAL: String(config.limits.activeJobsTotal),
  };
}
