import * as fs from 'node:fs';

/** The job's reason when the algorithm filled its writable root, naming the limit and its key. */
export function writableRootFullReason(limitBytes: number): string {
  return `the algorithm ran out of room on its own file system: a job may write ${limitBytes.toLocaleString('en-US')} bytes outside /output (limits.writableRootBytes)`;
}

/**
 * Whether the file system at `path` is full. In a job's container on Batch, `/` is the
 * container's writable layer under an XFS project quota (`overlay2.size`), and statfs reports the
 * quota as its size; full means less room left than a thousandth of it, or than 1 MiB.
 */
export function isFull(stats: Pick<fs.StatsFs, 'bsize' | 'blocks' | 'bavail'>): boolean {
  const total = stats.blocks * stats.bsize;
  const available = stats.bavail * stats.bsize;
  return available < Math.max(1024 ** 2, total / 1000);
}

/** Why a job whose algorithm failed did: its writable root full, if statfs of `/` says so. */
export function writableRootLimitReached(
  returnCode: number,
  limitBytes: number,
  root = '/',
): string | undefined {
  if (returnCode === 0) return undefined;
  return isFull(fs.statfsSync(root)) ? writableRootFullReason(limitBytes) : undefined;
}
