import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  isFull,
  writableRootFullReason,
  writableRootLimitReached,
} from '../../containers/jobs/runner/writable-root';
import { allocatedBytes } from '../../local/jobs/writable-layer';

const MiB = 1024 ** 2;

describe("the runner's view of the writable root on Batch", () => {
  test('full means less room left than a thousandth of it, or than 1 MiB', () => {
    const GiB30 = (30 * 1024 ** 3) / 4096;
    expect(isFull({ bsize: 4096, blocks: GiB30, bavail: 0 })).toBe(true);
    expect(isFull({ bsize: 4096, blocks: GiB30, bavail: Math.floor(GiB30 / 2000) })).toBe(true);
    expect(isFull({ bsize: 4096, blocks: GiB30, bavail: Math.ceil(GiB30 / 500) })).toBe(false);
    expect(isFull({ bsize: 4096, blocks: 1000, bavail: 200 })).toBe(true);
  });

  test('the reason names the limit and its configuration key', () => {
    expect(writableRootFullReason(30 * 1024 ** 3)).toBe(
      'the algorithm ran out of room on its own file system: a job may write 32,212,254,720 bytes outside /output (limits.writableRootBytes)',
    );
  });

  test('a failed algorithm on a full file system is reported with that reason; a success, or room left, is not', () => {
    // A small file system filled to the last block, as a container's layer at its quota.
    const mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), 'full-root-'));
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint]);
    if (mounted.status !== 0)
      throw new Error(`cannot mount a tmpfs (the test needs root): ${mounted.stderr}`);
    try {
      expect(writableRootLimitReached(1, 4 * MiB, mountPoint)).toBeUndefined();
      try {
        fs.writeFileSync(path.join(mountPoint, 'fill'), Buffer.alloc(8 * MiB));
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      }
      expect(writableRootLimitReached(1, 4 * MiB, mountPoint)).toBe(writableRootFullReason(4 * MiB));
      expect(writableRootLimitReached(0, 4 * MiB, mountPoint)).toBeUndefined();
    } finally {
      spawnSync('umount', [mountPoint]);
      fs.rmdirSync(mountPoint);
    }
  });
});

describe('local measure of a writable layer', () => {
  test('counts the blocks files take, in every folder, not the sizes they claim', async () => {
    const layer = fs.mkdtempSync(path.join(os.tmpdir(), 'layer-'));
    try {
      fs.mkdirSync(path.join(layer, 'home/user/.cache'), { recursive: true });
      fs.writeFileSync(path.join(layer, 'home/user/.cache/weights'), Buffer.alloc(3 * MiB, 1));
      // A sparse file claims 1 GiB and takes nothing, as under a quota.
      fs.writeFileSync(path.join(layer, 'sparse'), '');
      fs.truncateSync(path.join(layer, 'sparse'), 1024 * MiB);
      fs.symlinkSync('/etc/passwd', path.join(layer, 'link'));
      const bytes = await allocatedBytes(layer);
      expect(bytes).toBeGreaterThanOrEqual(3 * MiB);
      expect(bytes).toBeLessThan(4 * MiB);
    } finally {
      fs.rmSync(layer, { recursive: true, force: true });
    }
  });
});
