import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hostBootScript, ViewerHostSettings } from '../../containers/viewer/host/deploy';
import { VIEWER_SUPERVISOR_SETTINGS } from '../../containers/viewer/host/supervisor-settings';
import { VIEWER_HOST_SETTINGS } from '../../lambda/contracts/viewer-host';

const IMAGE = '123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/cdk-assets:0123abcd';
const REGISTRY = '123456789012.dkr.ecr.ap-northeast-1.amazonaws.com';
const PEM = '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA$HOME`id`"quoted"\n-----END PUBLIC KEY-----';
const SETTINGS: ViewerHostSettings = {
  viewerOrigin: 'https://d111111abcdef8.cloudfront.net',
  apiUrl: 'https://abc.execute-api.eu-central-1.amazonaws.com/prod',
  sessionPublicKeyPem: PEM,
  sessionsPerHost: 4,
  sessionMemoryMiB: 6144,
  sessionMilliCpus: 1500,
  metricNamespace: 'ImagingPlatform/Viewer',
};

/** Commands that record their arguments (NUL-separated, one call per record) instead of acting. */
const FAKES = {
  dnf: '',
  systemctl: '',
  aws: 'echo ecr-token',
  stat: 'echo 992',
  docker:
    '[ "$1" = login ] && read -r password && [ "$password" = ecr-token ]; [ "$1" = pull ] && [ -n "${FAIL_PULL:-}" ] && exit 1; true',
};

/**
 * The host's first boot as the launch template runs it, in bash, with Docker, dnf, systemctl
 * and the AWS CLI replaced by recorders, and the settings kept under a temporary folder.
 */
function boot(env: Record<string, string> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'viewer-boot-'));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  for (const [name, body] of Object.entries(FAKES)) {
    fs.writeFileSync(
      path.join(bin, name),
      `#!/bin/bash\n{ printf '%s\\0' "${name}" "$@"; printf '\\n--\\n'; } >> "${dir}/calls"\n${body}\n`,
      { mode: 0o755 },
    );
  }
  fs.writeFileSync(path.join(dir, 'instance-id'), 'i-0123456789abcdef0\n');
  const script = hostBootScript({
    image: IMAGE,
    registry: REGISTRY,
    settings: SETTINGS,
    logGroup: 'viewer-host-logs',
    region: 'ap-northeast-1',
  })
    .join('\n')
    .replaceAll('/etc/viewer-host', path.join(dir, 'etc'))
    .replaceAll('/var/lib/cloud/data/instance-id', path.join(dir, 'instance-id'));
  const result = spawnSync('bash', ['-c', script], {
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: dir, ...env },
    encoding: 'utf8',
  });
  const calls = fs.existsSync(path.join(dir, 'calls'))
    ? fs
        .readFileSync(path.join(dir, 'calls'), 'utf8')
        .split('\n--\n')
        .filter(Boolean)
        .map((call) => call.split('\0').filter((arg, i, all) => i < all.length - 1 || arg !== ''))
    : [];
  return { status: result.status, stderr: result.stderr, calls };
}

describe("a viewer host's first boot", () => {
  test("installs and starts Docker, logs in to the region's ECR, pulls the image and runs the host container", () => {
    const { status, stderr, calls } = boot();
    expect([status, stderr]).toEqual([0, '']);
    const steps = calls.map((c) => c.slice(0, 2));
    // The token goes through a pipe: its two ends start in either order.
    steps.splice(2, 2, ...steps.slice(2, 4).sort());
    expect(steps).toEqual([
      ['dnf', 'install'],
      ['systemctl', 'enable'],
      ['aws', 'ecr'],
      ['docker', 'login'],
      ['docker', 'pull'],
      ['stat', '-c'],
      ['docker', 'run'],
    ]);
    expect(calls).toContainEqual(['aws', 'ecr', 'get-login-password', '--region', 'ap-northeast-1']);
    expect(calls).toContainEqual(['docker', 'login', '--username', 'AWS', '--password-stdin', REGISTRY]);
    expect(calls[4]).toEqual(['docker', 'pull', IMAGE]);
  });

  test('the host container: host network, always restarted, the Docker socket and its group, logs to its log group, the image last', () => {
    const run = boot().calls.find((c) => c[0] === 'docker' && c[1] === 'run')!;
    const pairs = run.slice(2).join(' ');
    expect(pairs).toContain('--name viewer-host');
    expect(pairs).toContain('--restart always');
    expect(pairs).toContain('--network host');
    expect(pairs).toContain('--volume /var/run/docker.sock:/var/run/docker.sock');
    expect(pairs).toContain('--group-add 992');
    expect(pairs).toContain(
      '--log-driver awslogs --log-opt awslogs-region=ap-northeast-1 --log-opt awslogs-group=viewer-host-logs',
    );
    expect(pairs).toContain('--log-opt tag={{.Name}}/i-0123456789abcdef0');
    expect(run[run.length - 1]).toBe(IMAGE);
  });

  test('every setting reaches the container exactly, a multi-line public key and shell characters included', () => {
    const run = boot().calls.find((c) => c[0] === 'docker' && c[1] === 'run')!;
    const env = Object.fromEntries(
      run
        .flatMap((arg, i) => (run[i - 1] === '--env' ? [arg] : []))
        .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
    );
    expect(env).toEqual({
      ...VIEWER_HOST_SETTINGS.variables(SETTINGS),
      ...VIEWER_SUPERVISOR_SETTINGS.variables({
        containerEngineSocket: '/var/run/docker.sock',
        sessionImage: IMAGE,
        warmSessionViewers: 1,
        sessionIdleSeconds: 300,
      }),
    });
    expect(VIEWER_HOST_SETTINGS.parse(env)).toEqual(SETTINGS);
    expect(VIEWER_SUPERVISOR_SETTINGS.parse(env).sessionImage).toBe(IMAGE);
  });

  test('a failed step stops the boot before the host container runs', () => {
    const { status, calls } = boot({ FAIL_PULL: '1' });
    expect(status).not.toBe(0);
    expect(calls.some((c) => c[0] === 'docker' && c[1] === 'run')).toBe(false);
  });
});
