/** S3 allows at most this many parts in one multipart upload. */
export const MAX_PARTS = 10_000;
const MiB = 1024 ** 2;

export interface PartPlan {
  readonly partSize: number;
  readonly partCount: number;
}

/**
 * How a file of `size` bytes is cut into parts: the configured size, grown in whole MiB when the
 * file would otherwise need more than 10,000 parts.
 */
export function planParts(size: number, configuredPartSize: number): PartPlan {
  const partSize = Math.max(configuredPartSize, Math.ceil(size / MAX_PARTS / MiB) * MiB);
  return { partSize, partCount: Math.max(1, Math.ceil(size / partSize)) };
}

/** Bytes in part `partNumber` (1-based): every part is full but the last. */
export function partBytes(plan: PartPlan, size: number, partNumber: number): number {
  return partNumber < plan.partCount ? plan.partSize : size - plan.partSize * (plan.partCount - 1);
}
