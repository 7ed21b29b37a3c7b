import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { containerVolumeScript } from '../../lib/jobs/container-volume';

const SANDBOX = path.join(__dirname, 'container-volume-sandbox.sh');
const LIMIT = 7 * 1024 ** 3;

/** A loop device over a sparse file, standing in for the instance's container volume. */
function withLoopDevice<T>(scratch: string, use: (device: string) => T): T {
  const file = path.join(scratch, 'volume.img');
  fs.writeFileSync(file, '');
  fs.truncateSync(file, 512 * 1024 ** 2);
  const attached = spawnSync('losetup', ['--find', '--show', file], { encoding: 'utf8' });
  if (attached.status !== 0) throw new Error(`no loop device (the test needs root): ${attached.stderr}`);
  const device = attached.stdout.trim();
  try {
    return use(device);
  } finally {
    spawnSync('losetup', ['--detach', device]);
  }
}

/**
 * Runs the boot hook as a job instance would at boot, twice (it runs at every boot), in a mount
 * namespace of its own. Needs root, `unshare`, losetup and xfsprogs, as the CI machine has.
 */
function runSandbox(options: { device?: string } = {}): Map<string, string> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'container-volume-'));
  try {
    fs.mkdirSync(path.join(scratch, 'etc', 'docker'), { recursive: true });
    // The NVIDIA images configure their container runtime in the same file.
    fs.writeFileSync(
      path.join(scratch, 'etc', 'docker', 'daemon.json'),
      JSON.stringify({ 'default-runtime': 'nvidia', 'storage-opts': ['overlay2.size=1G'] }),
    );
    return withLoopDevice(scratch, (loop) => {
      const hook = path.join(scratch, 'boot-hook.sh');
      fs.writeFileSync(
        hook,
        containerVolumeScript({
          writableRootBytes: LIMIT,
          device: options.device ?? loop,
          dataRoot: path.join(scratch, 'docker'),
          daemonConfig: path.join(scratch, 'etc', 'docker', 'daemon.json'),
          ecsConfig: path.join(scratch, 'etc', 'ecs', 'ecs.config'),
          deviceWaitSeconds: 1,
        }),
      );
      const result = spawnSync('unshare', ['--mount', 'bash', SANDBOX, scratch, hook, loop], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      if (result.status !== 0) {
        throw new Error(
          `the sandbox did not run (it needs root, unshare, losetup and xfsprogs): ${result.error?.message ?? result.stderr}`,
        );
      }
      return new Map(
        result.stdout
          .trim()
          .split('\n')
          .map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)]),
      );
    });
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

describe('container volume boot hook', () => {
  let report: Map<string, string>;

  beforeAll(() => {
    report = runSandbox();
  });

  test("formats the volume XFS and mounts it, with project quotas, as Docker's data", () => {
    expect(report.get('first run')).toBe('ok');
    expect(report.get('file system')).toBe('xfs');
    expect(report.get('quota')).toBe('prjquota');
  });

  test("caps each container's writable layer, keeping the rest of Docker's configuration", () => {
    expect(JSON.parse(report.get('daemon config')!)).toEqual({
      'default-runtime': 'nvidia',
      'storage-opts': [`overlay2.size=${LIMIT}`],
    });
  });

  test('a second boot keeps the volume and adds nothing twice', () => {
    expect(report.get('second run')).toBe('ok');
    expect(report.get('kept across runs')).toBe('yes');
    expect(report.get('ecs config')).toBe('ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION=5m;');
    expect(report.get('daemon config after second run')).toBe(report.get('daemon config'));
    expect(report.get('shutdowns')).toBe('0');
  });

  test('without its volume, the instance shuts down before any job runs', () => {
    const missing = runSandbox({ device: '/dev/no-such-volume' });
    expect(missing.get('first run')).toMatch(/^failed .*container volume setup failed: shutting down/s);
    expect(Number(missing.get('shutdowns'))).toBeGreaterThanOrEqual(1);
  });
});
