import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findContainerEngine } from '../../local/jobs/container-engine';
import { buildNodeImage } from '../../local/jobs/node-image-builder';
import { NO_CONTAINER_ENGINE } from '../../local/local-options';
import { LocalPlatform } from '../../local/local-platform';
import { HOST_LOST_REASON } from '../../local/services/batch-retry';
import { apiClient } from '../helpers/api-client';
import { completedUpload, settledImage } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';

/**
 * Stopping local mode (what Ctrl-C on `npm start` does) while work is under way loses none of
 * it: the work goes back to its queue and the next start on the same data finishes it.
 */

const MiB = 1024 ** 2;
const alice = 'dev-alice';
const running: LocalPlatform[] = [];

afterEach(async () => {
  for (const platform of running.splice(0)) await platform.stop();
});

/** Local mode on `dataDir`, stopped after the test if the test did not stop it. */
async function start(dataDir: string, options: Parameters<typeof startTestPlatform>[1] = {}) {
  const platform = await startTestPlatform({}, { ...options, dataDir });
  running.push(platform);
  return { platform, call: apiClient(platform.urls.api) };
}

async function stop(platform: LocalPlatform): Promise<void> {
  running.splice(running.indexOf(platform), 1);
  await platform.stop();
}

/** A 2D MetaImage of `side` x `side` bytes. */
function metaImage(side: number): Buffer {
  return Buffer.concat([
    Buffer.from(
      `ObjectType = Image\nNDims = 2\nDimSize = ${side} ${side}\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n`,
    ),
    Buffer.alloc(side * side, 7),
  ]);
}

async function until<T>(
  read: () => Promise<T> | T,
  what: string,
  timeoutMs = 60_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`${what} did not happen`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const freshDataDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'imaging-platform-shutdown-'));

async function createImage(call: ReturnType<typeof apiClient>, content: Buffer): Promise<string> {
  const upload = await completedUpload(call, alice, 'scan.mha', content);
  const created = await call('POST', '/v1/images', { token: alice, body: { uploads: [upload] } });
  expect(created.status).toBe(201);
  return created.body.id;
}

describe('stopping local mode', () => {
  test('during a conversion in the function gives its message back, and the next start converts the image', async () => {
    const dataDir = freshDataDir();
    const first = await start(dataDir);
    // The conversion has claimed the image and is about to download its files when local mode stops.
    const held = first.platform.functions
      .get('images/convert-image')
      .injectFault({ host: new URL(first.platform.urls.s3).host, action: 'hold' });
    const imageId = await createImage(first.call, metaImage(8));
    await held.struck;
    await stop(first.platform);

    const second = await start(dataDir);
    expect(await settledImage(second.call, alice, imageId)).toMatchObject({
      status: 'Succeeded',
      statusDetail: 'Converted',
      metadata: { size: [8, 8] },
    });
  }, 120_000);

  test('during a conversion in the converter container stops the container, and the next start runs its job again', async () => {
    const dataDir = freshDataDir();
    // Sets over 1 MiB go to the converter container.
    const options = { conversion: { lambdaMaxSetBytes: MiB } };
    const first = await start(dataDir, options);
    const imageId = await createImage(first.call, metaImage(1100));
    const job = await until(() => first.platform.batch.jobs.find((j) => j.jobName === imageId), 'the job');
    const pid = Number(
      await until(() => {
        try {
          // The converter's entrypoint, run from its bundle, with the image's id as its argument.
          return execFileSync('pgrep', ['-f', `entrypoint-[0-9a-f]+\\.cjs ${imageId}`], {
            encoding: 'utf8',
          }).trim();
        } catch {
          return '';
        }
      }, 'the converter process'),
    );
    // Its own process group: a Ctrl-C at the terminal of `npm start` does not reach it.
    const groupOf = (p: number) =>
      execFileSync('ps', ['-o', 'pgid=', '-p', String(p)], { encoding: 'utf8' }).trim();
    expect(groupOf(pid)).not.toBe(groupOf(process.pid));
    // Frozen mid-way, so that it is surely under way when local mode stops.
    process.kill(pid, 'SIGSTOP');
    await stop(first.platform);
    expect(() => process.kill(pid, 0)).toThrow();

    const second = await start(dataDir, options);
    expect(await settledImage(second.call, alice, imageId)).toMatchObject({
      status: 'Succeeded',
      metadata: { size: [1100, 1100] },
    });
    await second.platform.batch.settled();
    expect(second.platform.batch.jobs.filter((j) => j.jobName === imageId)).toMatchObject([
      { jobId: job.jobId, status: 'SUCCEEDED' },
    ]);
  }, 180_000);

  describe('during an algorithm job', () => {
    let image: string;

    beforeAll(async () => {
      const engine = findContainerEngine();
      if (!engine) throw new Error(NO_CONTAINER_ENGINE);
      image = await buildNodeImage(engine, {
        tag: 'localhost/test-shutdown-behaviours:latest',
        files: { '/opt/algorithm/main.js': path.join(__dirname, '..', 'jobs', 'fixtures', 'behaviours.js') },
        user: '1000:1000',
        entrypoint: ['/usr/local/bin/node', '/opt/algorithm/main.js'],
      });
    }, 120_000);

    const containersOf = (jobId: string) =>
      execFileSync(
        findContainerEngine()!.command,
        ['ps', '--all', '--quiet', '--filter', `name=^job-${jobId}$`],
        {
          encoding: 'utf8',
        },
      ).trim();

    test('removes its container and leaves it Re-Queued, as a lost host does; the next start runs it again', async () => {
      const dataDir = freshDataDir();
      const first = await start(dataDir, { jobs: 'run' });
      const ct = await createImage(first.call, metaImage(4));
      expect(await settledImage(first.call, alice, ct)).toMatchObject({ status: 'Succeeded' });
      const algorithm = await first.call('POST', '/v1/algorithms', {
        token: alice,
        body: {
          title: 'Sleeper',
          image,
          interfaces: [
            {
              inputs: [
                { slug: 'ct-image', kind: 'image', relativePath: 'images/ct' },
                { slug: 'behaviour', kind: 'json', relativePath: 'behaviour.json' },
              ],
              outputs: [{ slug: 'results', kind: 'json', relativePath: 'results.json' }],
            },
          ],
        },
      });
      expect(algorithm.status).toBe(201);
      const submitted = await first.call('POST', '/v1/jobs', {
        token: alice,
        body: {
          algorithm: algorithm.body.id,
          inputs: [
            { socket: 'ct-image', image: ct },
            { socket: 'behaviour', value: { mode: 'sleep' } },
          ],
        },
      });
      const jobId: string = submitted.body.id;
      const statusOf = async (call: ReturnType<typeof apiClient>) =>
        (await call('GET', '/v1/jobs/{jobId}', { token: alice, params: { jobId } })).body.status as string;
      await until(async () => (await statusOf(first.call)) === 'Executing', 'the first attempt');
      await until(() => containersOf(jobId) !== '', 'the container of the first attempt');
      await stop(first.platform);
      expect(containersOf(jobId)).toBe('');

      // Looked at without running it: the attempt ended as Batch ends one whose instance was terminated.
      const looking = await start(dataDir);
      expect(await statusOf(looking.call)).toBe('Re-Queued');
      expect(looking.platform.batch.jobs.find((j) => j.jobName === jobId)).toMatchObject({
        status: 'RUNNABLE',
        attempts: [{ statusReason: HOST_LOST_REASON }],
      });
      await stop(looking.platform);

      const second = await start(dataDir, { jobs: 'run' });
      await until(async () => (await statusOf(second.call)) === 'Executing', 'the second attempt');
      await until(() => containersOf(jobId) !== '', 'the container of the second attempt');
      expect(
        (await second.call('POST', '/v1/jobs/{jobId}/cancel', { token: alice, params: { jobId } })).status,
      ).toBe(200);
      await until(() => containersOf(jobId) === '', 'the container of the cancelled job going');
    }, 240_000);
  });
});
