import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NETWORK_DENIED_GID } from '../../containers/jobs/runner/algorithm-identity';
import { ContainerEngine, findContainerEngine } from '../../local/jobs/container-engine';
import { NO_CONTAINER_ENGINE } from '../../local/local-options';
import { LocalPlatform } from '../../local/local-platform';
import { buildNodeImage } from '../../local/jobs/node-image-builder';
import { buildRunnableImage } from '../../containers/jobs/runner/runnable-image';
import { apiClient } from '../helpers/api-client';
import { completedUpload, endedJob, settledImage } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';

// The runner as it runs on AWS Batch: layered onto the algorithm's image, started as root with
// the job's credentials, it runs the algorithm as the image's user in the same container.
let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let engine: ContainerEngine;
let behaviours: string;
let runnable: string;
const alice = 'dev-alice';

beforeAll(async () => {
  const found = findContainerEngine();
  if (!found) throw new Error(NO_CONTAINER_ENGINE);
  engine = found;
  behaviours = await buildNodeImage(engine, {
    tag: 'localhost/test-behaviours:latest',
    files: { '/opt/algorithm/main.js': path.join(__dirname, 'fixtures/behaviours.js') },
    user: '1000:1000',
    entrypoint: ['/usr/local/bin/node', '/opt/algorithm/main.js'],
  });
  runnable = await buildRunnableImage(engine, behaviours, 'localhost/test-behaviours-runnable:latest');
  // Jobs are only recorded: the test starts the runnable image itself, as Batch would.
  platform = await startTestPlatform();
  call = apiClient(platform.urls.api);
}, 120_000);

afterAll(() => platform?.stop());

/**
 * Submits a job of the behaviours algorithm and runs it in a runnable image (by default the
 * behaviours image's), as Batch would; returns the job once ended, the runner's output and exit code.
 */
async function runInLayeredImage(behaviour: Record<string, unknown>, image = '') {
  const upload = await completedUpload(
    call,
    alice,
    'ct.mha',
    'ObjectType = Image\nNDims = 2\nDimSize = 2 2\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n\x00\x01\x02\x03',
  );
  const ct = await settledImage(
    call,
    alice,
    (await call('POST', '/v1/images', { token: alice, body: { uploads: [upload] } })).body.id,
  );
  const algorithm = await call('POST', '/v1/algorithms', {
    token: alice,
    body: {
      title: 'Behaviours',
      image: behaviours,
      interfaces: [
        {
          inputs: [
            { slug: 'ct-image', kind: 'image', relativePath: 'images/ct' },
            { slug: 'behaviour', kind: 'json', relativePath: 'behaviour.json' },
          ],
          outputs: [
            { slug: 'mask', kind: 'image', relativePath: 'images/mask' },
            { slug: 'results', kind: 'json', relativePath: 'results.json' },
          ],
        },
      ],
    },
  });
  expect(algorithm.status).toBe(201);
  const job = await call('POST', '/v1/jobs', {
    token: alice,
    body: {
      algorithm: algorithm.body.id,
      inputs: [
        { socket: 'ct-image', image: ct.id },
        { socket: 'behaviour', value: behaviour },
      ],
    },
  });
  // Batch starts the job once its staging job has copied its inputs.
  await platform.batch.settled();
  const submitted = platform.batch.jobs.find((j) => j.jobName === job.body.id)!;
  // What ECS gives the job's container: the job role's credentials, for this job's task.
  const credentials = platform.iam.credentials.forRole(
    platform.iam.access.algorithmJobs.jobRoleArn,
    submitted.jobId,
  );
  const bucket = platform.settings.imagingBucket;
  const container = spawn(
    engine.command,
    [
      'run',
      ...engine.runArgs,
      '--rm',
      // Batch on EC2 gives jobs the host's network; here that reaches the embedded S3.
      '--network',
      'host',
      // As the job definition: a writable root, and volumes of the job's own for /input, /output
      // and /opt/ml/model.
      ...['--tmpfs', '/input', '--tmpfs', '/output', '--tmpfs', '/opt/ml/model'],
      ...['-e', `AWS_ENDPOINT_URL_S3=${platform.urls.s3}`, '-e', 'AWS_REGION=eu-central-1'],
      ...['-e', 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true'],
      ...['-e', `AWS_ACCESS_KEY_ID=${credentials.accessKeyId}`],
      ...['-e', `AWS_SECRET_ACCESS_KEY=${credentials.secretAccessKey}`],
      // What the job's submission gives the runner: its signing key and output limits.
      ...Object.entries(submitted.environment).flatMap(([name, value]) => ['-e', `${name}=${value}`]),
      ...['-e', 'GRACE_SECONDS=1'],
      image || runnable,
      '--manifest',
      `s3://${bucket}/jobs/${job.body.id}/inputs.json`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  container.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  container.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number>((resolve) => container.on('close', resolve));
  const onBatchEvent = (event: unknown) =>
    platform.functions.get('jobs/batch-job-state-change').invoke(event);
  await onBatchEvent({
    source: 'aws.batch',
    'detail-type': 'Batch Job State Change',
    detail: {
      jobId: submitted.jobId,
      jobName: job.body.id,
      jobQueue: submitted.jobQueue,
      ...(code === 0
        ? { status: 'SUCCEEDED' }
        : {
            status: 'FAILED',
            statusReason: 'Essential container in task exited',
            container: { exitCode: code },
          }),
    },
  });
  // A job that succeeded ends once its mask is converted.
  return { job: await endedJob(call, alice, job.body.id), output, code };
}

describe('the runner layered onto an algorithm image', () => {
  test("records the author's USER, which the ECR check reads, and runs the runner as root", async () => {
    const inspected = spawnSync(
      engine.command,
      ['image', 'inspect', '--format', '{{json .Config}}', runnable],
      {
        encoding: 'utf8',
      },
    );
    const config = JSON.parse(inspected.stdout) as { User: string; Env: string[] };
    expect(config.User).toBe('0:0');
    expect(config.Env).toContain('ALGORITHM_USER=1000:1000');
  });

  test("runs the image's own program as its own user, in the network-denied group, with none of the runner's variables", async () => {
    const { job, output, code } = await runInLayeredImage({
      mode: 'probe',
      target: { host: '127.0.0.1', port: 9 },
    });
    expect({ code, output }).toMatchObject({ code: 0 });
    expect(job.status).toBe('Succeeded');
    const findings = job.outputs.find((o: { socket: string }) => o.socket === 'results').value;
    expect(findings).toMatchObject({ user: 1000, credentialVariables: [], inputWritable: false });
    expect(findings.groups).toEqual(expect.arrayContaining([NETWORK_DENIED_GID]));
    // The image's own ENV, and HOME where it sets none, as Docker gives it.
    expect([...findings.environment].sort()).toEqual(['HOME', 'PATH']);
    // The runner's log lines are JSON, as the job log reader expects.
    expect(output).toMatch(/"message":"result recorded: exit 0"/);
  });

  test('a failing algorithm is reported with its last stderr line', async () => {
    const { job, code } = await runInLayeredImage({ mode: 'fail' });
    // The runner recorded the algorithm's exit; it did not fail itself.
    expect(code).toBe(0);
    expect(job).toMatchObject({
      status: 'Failed',
      statusReason: 'model weights not found: /opt/ml/model/weights.pt',
    });
  });

  test('records a named USER by the numbers its /etc/passwd gives, and refuses one that is uid 0', async () => {
    const etc = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-layer-etc-'));
    const image = (tag: string, user: string, passwd: string) => {
      fs.writeFileSync(path.join(etc, `${user}-passwd`), passwd);
      return buildNodeImage(engine, {
        tag,
        files: {
          '/opt/algorithm/main.js': path.join(__dirname, 'fixtures/behaviours.js'),
          '/etc/passwd': path.join(etc, `${user}-passwd`),
        },
        user,
        entrypoint: ['/usr/local/bin/node', '/opt/algorithm/main.js'],
      });
    };
    try {
      const named = await image(
        'localhost/runner-layer-named:latest',
        'algo',
        'algo:x:1234:1234::/tmp:/bin/sh\n',
      );
      const layered = await buildRunnableImage(engine, named, 'localhost/runner-layer-named-runnable:latest');
      const inspected = spawnSync(
        engine.command,
        ['image', 'inspect', '--format', '{{json .Config.Env}}', layered],
        {
          encoding: 'utf8',
        },
      );
      expect(JSON.parse(inspected.stdout)).toContain('ALGORITHM_USER=1234:1234');
      const toor = await image('localhost/runner-layer-toor:latest', 'toor', 'toor:x:0:0::/root:/bin/sh\n');
      await expect(
        buildRunnableImage(engine, toor, 'localhost/runner-layer-toor-runnable:latest'),
      ).rejects.toThrow('the image runs as root (USER "toor" is uid 0)');
    } finally {
      fs.rmSync(etc, { recursive: true, force: true });
    }
  });

  test("a USER the launcher cannot become ends the job with the runner's reason, never a runtime's line", async () => {
    // The layer refuses such a USER when it is built; one recorded otherwise is refused again by
    // the launcher when the job starts.
    const context = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-layer-ghost-'));
    try {
      fs.writeFileSync(path.join(context, 'Containerfile'), `FROM ${runnable}\nENV ALGORITHM_USER=ghost\n`);
      spawnSync(
        engine.command,
        ['build', '--quiet', '--tag', 'localhost/runner-layer-ghost:latest', context],
        {
          encoding: 'utf8',
        },
      );
    } finally {
      fs.rmSync(context, { recursive: true, force: true });
    }
    const { job, output, code } = await runInLayeredImage(
      { mode: 'succeed' },
      'localhost/runner-layer-ghost:latest',
    );
    const reason =
      'the image has USER "ghost", whose user is not in its /etc/passwd; algorithms run as a non-root user that the image defines';
    expect(code).not.toBe(0);
    expect(job).toMatchObject({ status: 'Failed', statusReason: reason, outputs: [] });
    // The runner's log lines are JSON; the reason is among them, as the runner's.
    const messages = output
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { message: string }).message);
    expect(messages).toContain(`[platform] ${reason}`);
    expect(output).not.toMatch(/Node\.js v\d/);
  });
});
