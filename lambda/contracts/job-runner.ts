import { settingsGroup, text, wholeNumber } from './settings';

/**
 * What the job runner is told by the platform, besides the job's manifest: how long an algorithm
 * has between SIGTERM and SIGKILL (set by its job definition), and the per-job key it signs its
 * result record with (set at submission, seen by the runner only).
 */
export const RUNNER_GRACE = settingsGroup('the grace period', { graceSeconds: wholeNumber });
export const RESULT_SIGNING = settingsGroup('the result signing key', { resultSigningKey: text });
