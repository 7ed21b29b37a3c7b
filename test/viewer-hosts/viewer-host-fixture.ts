import type { ProtectionCalls } from '../../containers/viewer/host/scale-in-protection';
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { signSessionCredential } from '../../lambda/contracts/session-credential';
import { findContainerEngine } from '../../local/jobs/container-engine';
import { buildLocalFilesImage } from '../../local/jobs/local-files-image';
import { sharedLibraries } from '../../containers/jobs/runner/runner-layer';
import { stageViewerHostContext } from '../../containers/viewer/host/image-context';
import type { LifecycleCalls } from '../../containers/viewer/host/instance-lifecycle';
import { InstanceMetadata } from '../../containers/viewer/host/instance-metadata';
import type { MetricCalls } from '../../containers/viewer/host/host-metrics';
import { startViewerHost, ViewerHost } from '../../containers/viewer/host/viewer-host';

const run = promisify(execFile);

/**
 * What the viewer host tests share: the container engine's API on this machine (podman's,
 * served for the test file, or docker's socket), the host's image built once from local files,
 * an image server and API stand-in the session viewers reach, the session key pair, and a local
 * stand-in of the instance metadata service.
 */

/** The engine's command and the socket of its API, started for the caller if the engine is podman. */
export async function engineService(): Promise<{
  command: string;
  socketPath: string;
  stop(): Promise<void>;
}> {
  const engine = findContainerEngine();
  if (!engine) throw new Error('the viewer host tests need podman or docker on this machine');
  if (engine.command !== 'podman') {
    return { command: engine.command, socketPath: '/var/run/docker.sock', stop: async () => undefined };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'viewer-engine-'));
  const socketPath = path.join(dir, 'engine.sock');
  const service: ChildProcess = spawn(
    'podman',
    [
      ...(engine.runArgs.includes('runc') ? ['--runtime', 'runc'] : []),
      'system',
      'service',
      '--time=0',
      `unix://${socketPath}`,
    ],
    { stdio: 'ignore' },
  );
  for (let tries = 0; !fs.existsSync(socketPath); tries++) {
    if (tries > 200) throw new Error('podman system service did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    command: 'podman',
    socketPath,
    stop: async () => {
      service.kill('SIGTERM');
      await new Promise((resolve) => service.once('exit', resolve));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The rlimits podman on this machine refuses to leave at its defaults. */
export const TEST_ULIMITS = [
  { Name: 'nofile', Soft: 1024, Hard: 1024 },
  { Name: 'nproc', Soft: 1000, Hard: 1000 },
];

/** Builds the viewer host's image from this checkout, with no registry; returns its tag. */
export async function buildViewerHostImage(
  command: string,
): Promise<{ image: string; remove(): Promise<void> }> {
  const engine = findContainerEngine()!;
  const base = await buildViewerBaseImage(engine);
  const context = fs.mkdtempSync(path.join(os.tmpdir(), 'viewer-host-context-'));
  const image = `localhost/viewer-host-test:${randomBytes(4).toString('hex')}`;
  try {
    await stageViewerHostContext(context);
    await run(
      command,
      [
        'build',
        ...engine.runArgs,
        '--pull=never',
        // Another test file's `rmi` can remove a cached layer while this build looks it up.
        '--no-cache',
        '--build-arg',
        `BASE_IMAGE=${base}`,
        '--build-arg',
        'MODULES=staged-modules',
        '--tag',
        image,
        context,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
  } finally {
    fs.rmSync(context, { recursive: true, force: true });
  }
  return {
    image,
    remove: async () => void (await run(command, ['rmi', '--force', image]).catch(() => undefined)),
  };
}

/**
 * The Node base image as far as the viewer needs it, from this machine's files: its Node binary,
 * the libraries Node and sharp's libvips load, and the `node` user (uid 1000).
 */
async function buildViewerBaseImage(
  engine: NonNullable<ReturnType<typeof findContainerEngine>>,
): Promise<string> {
  const sharpBinary = path.join(__dirname, '..', '..', 'node_modules', '@img', 'sharp-linux-x64', 'lib');
  const binaries = [
    process.execPath,
    ...fs.readdirSync(sharpBinary).map((file) => path.join(sharpBinary, file)),
  ];
  const libraries = new Set(binaries.flatMap((binary) => sharedLibraries(binary)));
  for (const library of [...libraries]) if (library.includes('node_modules')) libraries.delete(library);
  return buildLocalFilesImage(engine, {
    tag: 'localhost/viewer-host-test-base:latest',
    files: {
      '/usr/local/bin/node': process.execPath,
      ...Object.fromEntries([...libraries].map((library) => [library, library])),
    },
    texts: {
      '/etc/passwd': 'root:x:0:0:root:/root:/sbin/nologin\nnode:x:1000:1000::/home/node:/sbin/nologin\n',
      '/etc/group': 'root:x:0:\nnode:x:1000:\n',
    },
    owned: { by: '1000:1000', folders: ['/home/node'] },
    instructions: ['ENV PATH=/usr/local/bin:/usr/bin:/bin', 'CMD ["node"]'],
  });
}

/** An address of this machine that containers reach (not loopback, not a container bridge). */
export function hostAddress(): string {
  for (const [name, addresses] of Object.entries(os.networkInterfaces())) {
    if (/^(lo|podman|docker|br-|veth|cni)/.test(name)) continue;
    const v4 = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (v4) return v4.address;
  }
  throw new Error('this machine has no address that containers can reach');
}

/**
 * Serves images at `/images/{name}` and takes the viewers' reports at
 * `/v1/sessions/{id}/viewer-report`, on an address containers reach.
 */
export async function startImageServer(images: Record<string, Buffer>) {
  const reports: { sessionId: string; state: string }[] = [];
  const server = http.createServer((req, res) => {
    const image = /^\/images\/([\w.-]+)$/.exec(req.url ?? '');
    if (image && images[image[1]]) {
      res.writeHead(200, { 'content-length': images[image[1]].length });
      return void res.end(images[image[1]]);
    }
    const report = /^\/v1\/sessions\/([\w-]+)\/viewer-report$/.exec(req.url ?? '');
    if (report && req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        reports.push({
          sessionId: report[1],
          state: (JSON.parse(Buffer.concat(chunks).toString()) as { state: string }).state,
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  const base = `http://${hostAddress()}:${(server.address() as AddressInfo).port}`;
  return {
    apiUrl: base,
    imageUrl: (name: string) => `${base}/images/${name}`,
    reports,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The session key pair, as the API holds its private half and hosts its public one. */
export function sessionKeys() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    publicKeyPem,
    credential: (sessionId: string, viewerOrigin: string, images: { id: string; url: string }[]) =>
      signSessionCredential(
        {
          sessionId,
          userId: `user-${sessionId}`,
          expiresAt: Math.floor(Date.now() / 1000) + 3600,
          issuedAt: Math.floor(Date.now() / 1000),
          viewerOrigin,
          images: images.map((image) => ({ ...image, name: image.id, kind: 'volume', overlays: [] })),
        },
        privateKeyPem,
      ),
  };
}

/**
 * The instance metadata service as a local HTTP server: IMDSv2 tokens, the instance id, the
 * group's tag and a target lifecycle state the test sets.
 */
export async function startMetadataStandIn(
  instanceId: string,
  groupName: string | undefined,
  lifecycleState = 'InService',
) {
  const token = randomBytes(16).toString('hex');
  const server = http.createServer((req, res) => {
    if (req.method === 'PUT' && req.url === '/latest/api/token') {
      if (!req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return void res.writeHead(400).end();
      return void res.writeHead(200).end(token);
    }
    if (req.headers['x-aws-ec2-metadata-token'] !== token) return void res.writeHead(401).end();
    const values: Record<string, string | undefined> = {
      '/latest/meta-data/instance-id': instanceId,
      '/latest/meta-data/tags/instance/aws:autoscaling:groupName': groupName,
      '/latest/meta-data/autoscaling/target-lifecycle-state': lifecycleState,
    };
    const value = values[req.url ?? ''];
    if (value === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/plain' }).end(value);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    metadata: new InstanceMetadata(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    setLifecycleState: (state: string) => void (lifecycleState = state),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Auto Scaling and CloudWatch, recording what the host asks of them (no local server exists). */
export function recordedAws() {
  const calls: { name: string; input: unknown }[] = [];
  const autoScaling: LifecycleCalls & ProtectionCalls = {
    recordLifecycleActionHeartbeat: async (input) => void calls.push({ name: 'heartbeat', input }),
    setInstanceProtection: async (input) => void calls.push({ name: 'protect', input }),
    completeLifecycleAction: async (input) => void calls.push({ name: 'complete', input }),
    describeAutoScalingInstances: async () => ({ AutoScalingInstances: [] }),
  };
  const cloudWatch: MetricCalls = {
    putMetricData: async (input) => void calls.push({ name: 'putMetricData', input }),
  };
  return { calls, autoScaling, cloudWatch };
}

export interface TestHostOptions {
  readonly socketPath: string;
  readonly image: string;
  readonly publicKeyPem: string;
  readonly origin: string;
  readonly apiUrl: string;
  readonly sessionsPerHost: number;
  readonly warm?: number;
  readonly idleSeconds?: number;
  readonly instanceId?: string;
  readonly port?: number;
  readonly memoryMiB?: number;
  /** The target lifecycle state the instance starts in. @default 'InService' */
  readonly lifecycleState?: string;
}

/** A viewer host as an instance runs it, on this machine, with its metadata and AWS stood in for. */
export async function startTestHost(options: TestHostOptions) {
  const instanceId = options.instanceId ?? `i-${randomBytes(6).toString('hex')}`;
  const metadata = await startMetadataStandIn(instanceId, 'viewer-hosts-test', options.lifecycleState);
  const aws = recordedAws();
  const logs: string[] = [];
  let host: ViewerHost;
  try {
    host = await startViewerHost({
      settings: {
        viewerOrigin: options.origin,
        apiUrl: options.apiUrl,
        sessionPublicKeyPem: options.publicKeyPem,
        sessionsPerHost: options.sessionsPerHost,
        sessionMemoryMiB: options.memoryMiB ?? 512,
        sessionMilliCpus: 1000,
        metricNamespace: 'test/Viewer',
      },
      supervisorSettings: {
        containerEngineSocket: options.socketPath,
        sessionImage: options.image,
        warmSessionViewers: options.warm ?? 0,
        sessionIdleSeconds: options.idleSeconds ?? 300,
      },
      metadata: metadata.metadata,
      autoScaling: aws.autoScaling,
      cloudWatch: aws.cloudWatch,
      port: options.port ?? 0,
      ulimits: TEST_ULIMITS,
      intervals: { lifecyclePollMs: 100, heartbeatMs: 200, metricsMs: 60_000 },
      log: (message) => logs.push(message),
    });
  } catch (err) {
    await metadata.stop();
    throw err;
  }
  return {
    host,
    instanceId,
    url: host.supervisor.url,
    aws,
    logs,
    metadata,
    stop: async () => {
      await host.stop();
      await metadata.stop();
    },
  };
}
