import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { instanceMetadataGuardScript } from '../../lib/jobs/instance-metadata-guard';

const SANDBOX = path.join(__dirname, 'instance-metadata-sandbox.sh');

/**
 * Runs the job instances' boot hook in network namespaces laid out as on EC2: a metadata service
 * one routed hop from the host, and a container behind docker0. Needs root, `unshare`, `ip`,
 * iptables with the owner match and overlayfs, as the CI machine has.
 */
function runSandbox(): Map<string, string> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'metadata-guard-'));
  try {
    const hook = path.join(scratch, 'boot-hook.sh');
    fs.writeFileSync(hook, instanceMetadataGuardScript());
    const result = spawnSync(
      'unshare',
      ['--net', '--mount', 'bash', SANDBOX, scratch, hook, process.execPath],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    if (result.status !== 0) {
      throw new Error(
        `the network sandbox did not run (it needs root, unshare, ip, iptables with the owner match and overlayfs): ${result.error?.message ?? result.stderr}`,
      );
    }
    return new Map(
      result.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(': ') as [string, string]),
    );
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

describe('instance metadata guard', () => {
  let report: Map<string, string>;

  beforeAll(() => {
    report = runSandbox();
  });

  test('without the guard, every process and container reaches the metadata service', () => {
    expect(report.get('before host root')).toBe('reached');
    expect(report.get('before host user')).toBe('reached');
    expect(report.get('before container root')).toBe('reached');
  });

  test('root on the host, as the ECS agent runs, still reaches it', () => {
    expect(report.get('after host root')).toBe('reached');
  });

  test('a non-root process on the host network, as a job container in host mode, is stopped', () => {
    expect(report.get('after host user')).toBe('blocked');
  });

  test("an algorithm's processes, in the network-denied group, reach nothing, not even loopback", () => {
    expect(report.get('before algorithm loopback')).toBe('reached');
    expect(report.get('after host user loopback')).toBe('reached');
    expect(report.get('after algorithm loopback')).toBe('blocked');
  });

  test('a bridged container is stopped, even as root', () => {
    expect(report.get('after container root')).toBe('blocked');
  });

  test('running twice adds each rule and setting once, and shuts nothing down', () => {
    expect(report.get('OUTPUT rules')).toBe('1');
    expect(report.get('DOCKER-USER rules')).toBe('1');
    expect(report.get('ecs.config lines')).toBe('1');
    expect(report.get('task role lines')).toBe('1');
    expect(report.get('group rules')).toBe('1');
    expect(report.get('shutdowns')).toBe('0');
  });

  test('when a rule cannot be set, the instance shuts down before the ECS agent is configured', () => {
    expect(report.get('broken exit')).not.toBe('0');
    expect(report.get('broken shutdowns')).toBe('shutdown -h now');
    expect(report.get('broken ecs.config')).toBe('absent');
  });
});
