import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { BOOT_HOOK_FAILED, bootFailureTrap } from '../../lib/jobs/boot-failure-report';
import { containerVolumeScript } from '../../lib/jobs/container-volume';
import { instanceMetadataGuardScript } from '../../lib/jobs/instance-metadata-guard';

// A boot hook that fails tells the boot failure log group, signed with the instance role's
// credentials, then shuts the instance down. One server here answers as the instance metadata
// service and as CloudWatch Logs; `shutdown` only leaves a note.

interface Received {
  readonly target: string;
  readonly authorization: string;
  readonly token: string;
  readonly body: Record<string, unknown>;
}

const GROUP = '/ImagingPlatform/job-instance-boot-failures-abc';
let server: http.Server;
let endpoint: string;
let received: Received[];
let scratch: string;

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'boot-failure-'));
  fs.mkdirSync(path.join(scratch, 'bin'));
  fs.writeFileSync(
    path.join(scratch, 'bin', 'shutdown'),
    `#!/bin/sh\necho "shutdown $*" >> "${scratch}/shutdowns"\n`,
    { mode: 0o755 },
  );
  const metadata: Record<string, string> = {
    'instance-id': 'i-0123456789abcdef0',
    'instance-type': 'g4dn.xlarge',
    'placement/region': 'eu-central-1',
    'iam/security-credentials/': 'job-instance-role',
    'iam/security-credentials/job-instance-role': JSON.stringify(
      { Code: 'Success', AccessKeyId: 'ASIAEXAMPLE', SecretAccessKey: 'secret', Token: 'session-token' },
      null,
      2,
    ),
  };
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/latest/api/token' && req.method === 'PUT') {
        res.end('imds-token');
        return;
      }
      if (req.url?.startsWith('/latest/meta-data/')) {
        const value = metadata[req.url.slice('/latest/meta-data/'.length)];
        const tokenOk = req.headers['x-aws-ec2-metadata-token'] === 'imds-token';
        if (value && tokenOk) res.end(value);
        else res.writeHead(tokenOk ? 404 : 401).end();
        return;
      }
      received.push({
        target: String(req.headers['x-amz-target']),
        authorization: String(req.headers.authorization),
        token: String(req.headers['x-amz-security-token']),
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(scratch, { recursive: true, force: true });
});

beforeEach(() => {
  received = [];
  fs.rmSync(path.join(scratch, 'shutdowns'), { force: true });
});

/** Runs `script` as the boot hook it is; resolves once it has exited. */
function boot(script: string): Promise<{ status: number | null; stderr: string }> {
  const file = path.join(scratch, 'hook.sh');
  fs.writeFileSync(file, script);
  return new Promise((resolve) => {
    const child = spawn('bash', [file], {
      env: { ...process.env, PATH: `${path.join(scratch, 'bin')}:${process.env.PATH}` },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

const shutdowns = () =>
  fs.existsSync(path.join(scratch, 'shutdowns'))
    ? fs.readFileSync(path.join(scratch, 'shutdowns'), 'utf8')
    : '';

const report = () => ({ logGroupName: GROUP, metadataEndpoint: endpoint, logsEndpoint: endpoint });

test('a failed step is written to the log group as a JSON line, signed as the instance role, and the instance shuts down', async () => {
  const { stderr } = await boot(
    ['#!/bin/bash', 'set -eu', bootFailureTrap('disk setup', report()), 'false', 'echo never'].join('\n'),
  );
  expect(stderr).toContain('disk setup failed: shutting down before any job runs');
  expect(shutdowns()).toBe('shutdown -h now\n');
  expect(received.map((r) => r.target)).toEqual([
    'Logs_20140328.CreateLogStream',
    'Logs_20140328.PutLogEvents',
  ]);
  for (const request of received) {
    expect(request.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE\/\d{8}\/eu-central-1\/logs\/aws4_request, SignedHeaders=\S*x-amz-security-token\S*, Signature=[0-9a-f]{64}$/,
    );
    expect(request.token).toBe('session-token');
  }
  expect(received[0].body).toEqual({ logGroupName: GROUP, logStreamName: 'i-0123456789abcdef0' });
  const put = received[1].body as { logEvents: { timestamp: number; message: string }[] };
  expect(put).toMatchObject({ logGroupName: GROUP, logStreamName: 'i-0123456789abcdef0' });
  expect(put.logEvents).toHaveLength(1);
  expect(Math.abs(put.logEvents[0].timestamp - Date.now())).toBeLessThan(60_000);
  expect(JSON.parse(put.logEvents[0].message)).toEqual({
    message: BOOT_HOOK_FAILED,
    step: 'disk setup',
    instanceId: 'i-0123456789abcdef0',
    instanceType: 'g4dn.xlarge',
  });
});

test('when the report cannot be made, the instance shuts down all the same', async () => {
  const unreachable = { logGroupName: GROUP, metadataEndpoint: 'http://127.0.0.1:9', logsEndpoint: endpoint };
  await boot(['#!/bin/bash', 'set -eu', bootFailureTrap('disk setup', unreachable), 'false'].join('\n'));
  expect(received).toEqual([]);
  expect(shutdowns()).toBe('shutdown -h now\n');
});

test('a hook that succeeds reports nothing and keeps the instance', async () => {
  await boot(['#!/bin/bash', 'set -eu', bootFailureTrap('disk setup', report()), 'true'].join('\n'));
  expect(received).toEqual([]);
  expect(shutdowns()).toBe('');
});

test("both boot hooks report their failures under their own step's name", () => {
  expect(instanceMetadataGuardScript(report())).toContain(
    'trap \'trap - ERR; set +e; echo "instance metadata guard failed',
  );
  expect(containerVolumeScript({ writableRootBytes: 1, bootFailures: report() })).toContain(
    'trap \'trap - ERR; set +e; echo "container volume setup failed',
  );
});
