// Figures of a study as a user sends it, in local mode (run by bench/run.ts in a process of its
// own): the 512 x 512 x 500 CT as 500 DICOM files (263 MB), one upload per file with 8 in flight;
// its image's claims and conversion; the example algorithm's job on it; how long a second image
// queued as the first is converted waits to be picked up while the first one's uploads are
// removed; and how long `POST /v1/images` takes to claim 2,000 and 10,000 uploads.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true'; // a metric document per invocation would drown the figures
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXAMPLE_ALGORITHM } from '../containers/algorithms/example-threshold/deploy';
import { defaultPlatformConfig } from '../lib/config/platform-config';
import { findContainerEngine } from '../local/jobs/container-engine';
import { buildNodeImage } from '../local/jobs/node-image-builder';
import { localOptionsFromEnvironment } from '../local/local-options';
import { LocalPlatform, startLocalPlatform } from '../local/local-platform';
import { CT_SIZE, ctSlice } from './ct-series';
import { freeLocalPorts } from '../test/helpers/free-ports';

const IN_FLIGHT = 8;
const TOKEN = 'dev-alice';

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 1000 ? 2 : 1)} s`;

async function inParallel<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]);
      }
    }),
  );
  return results;
}

function apiOf(platform: LocalPlatform) {
  return async (method: string, route: string, body?: unknown) => {
    const request = () =>
      fetch(`${platform.urls.api}/v1${route}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    // A read may meet a connection the local API just closed; it is tried once more.
    const response = await request().catch((err: Error) => {
      if (method !== 'GET') throw err;
      return request();
    });
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as Record<string, any>) : {}; // eslint-disable-line @typescript-eslint/no-explicit-any
    if (response.status >= 400)
      throw new Error(`${method} ${route}: ${response.status} ${text.slice(0, 300)}`);
    return parsed;
  };
}

/** One file as a client sends it: start, sign its parts, PUT each, complete. */
async function upload(call: ReturnType<typeof apiOf>, filename: string, content: Buffer): Promise<string> {
  const created = await call('POST', '/uploads', { filename, size: content.length });
  const partNumbers = Array.from({ length: created.partCount }, (_, i) => i + 1);
  const signed = await call('POST', `/uploads/${created.id}/parts`, { partNumbers });
  const parts = [];
  for (const part of signed.parts as { partNumber: number; url: string; size: number }[]) {
    const start = (part.partNumber - 1) * created.partSize;
    const put = await fetch(part.url, { method: 'PUT', body: content.subarray(start, start + part.size) });
    if (!put.ok) throw new Error(`part ${part.partNumber} of ${filename}: ${put.status}`);
    parts.push({ partNumber: part.partNumber, etag: put.headers.get('etag') });
  }
  await call('POST', `/uploads/${created.id}/complete`, { parts });
  return created.id as string;
}

/** Reads the image every `everyMs` until `done` says so; the last read. */
async function imageUntil(
  call: ReturnType<typeof apiOf>,
  id: string,
  done: (image: Record<string, any>) => boolean, // eslint-disable-line @typescript-eslint/no-explicit-any
  everyMs: number,
) {
  for (;;) {
    const image = await call('GET', `/images/${id}`);
    if (done(image)) return image;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Completed uploads written straight into the stores: only their claims are timed. */
async function storedUploads(platform: LocalPlatform, documents: DynamoDBDocumentClient, count: number) {
  const owner = platform.devUsers[0].claims.sub;
  const now = new Date().toISOString();
  const ids = Array.from({ length: count }, () => randomUUID());
  for (let i = 0; i < ids.length; i += 25) {
    await documents.send(
      new BatchWriteCommand({
        RequestItems: {
          [platform.settings.uploadsTable]: ids.slice(i, i + 25).map((id, j) => ({
            PutRequest: {
              Item: {
                id,
                owner,
                filename: `1.2.826.0.1.3680043.8.498.7.${i + j}.dcm`,
                size: 524_288,
                partSize: 32 * 1024 ** 2,
                partCount: 1,
                objectKey: `uploads/${owner}/${id}`,
                s3UploadId: `stored-${id}`,
                status: 'Completed',
                createdAt: now,
                completedAt: now,
              },
            },
          })),
        },
      }),
    );
  }
  return ids;
}

export async function benchStudyUploads(): Promise<void> {
  console.log(
    `\n## A study as it comes, in local mode: the ${CT_SIZE[2]}-slice CT as ${CT_SIZE[2]} DICOM uploads, ${IN_FLIGHT} in flight`,
  );
  const engine = findContainerEngine();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-study-'));
  const algorithmImage = engine ? await buildNodeImage(engine, EXAMPLE_ALGORITHM) : undefined;
  const platform = await startLocalPlatform({
    ...localOptionsFromEnvironment({ LOCAL_DATA_DIR: path.join(work, 'data') }),
    config: defaultPlatformConfig,
    ports: await freeLocalPorts(),
    jobs: engine ? 'run' : 'record',
  });
  Object.assign(process.env, platform.environment);
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const call = apiOf(platform);
  try {
    // The second image's file is uploaded beforehand: only its wait in the queue is timed. Two
    // images converted at once first start both of the converter's sandboxes (local mode runs two,
    // as two Lambda environments), so that no cold start is counted as waiting.
    const [secondUpload, idleUpload, ...warmUps] = await Promise.all(
      ['second', 'idle', 'warm-1', 'warm-2'].map((name) => upload(call, `${name}.dcm`, ctSlice(0))),
    );
    const warming = await Promise.all(warmUps.map((id) => call('POST', '/images', { uploads: [id] })));
    await Promise.all(
      warming.map((image) => imageUntil(call, image.id, (i) => i.status === 'Succeeded', 50)),
    );
    const idleQueued = performance.now();
    const idle = await call('POST', '/images', { uploads: [idleUpload] });
    await imageUntil(call, idle.id, (i) => i.status !== 'Queued', 20);
    const idlePickupMs = performance.now() - idleQueued;
    await imageUntil(call, idle.id, (i) => i.status === 'Succeeded', 50);

    const started = performance.now();
    let bytes = 0;
    const uploads = await inParallel(
      Array.from({ length: CT_SIZE[2] }, (_, k) => k),
      IN_FLIGHT,
      (k) => {
        const content = ctSlice(k);
        bytes += content.length;
        return upload(call, `IM${String(k).padStart(4, '0')}.dcm`, content);
      },
    );
    const uploaded = performance.now();
    const created = await call('POST', '/images', { uploads, name: 'CT' });
    const claimed = performance.now();
    const first = await imageUntil(
      call,
      created.id,
      (i) => i.status !== 'Queued' && i.status !== 'Started',
      50,
    );
    const converted = performance.now();
    if (first.status !== 'Succeeded') throw new Error(`the CT was not converted: ${JSON.stringify(first)}`);

    // Queued as the first one's uploads are being removed: the time until the converter takes it.
    const second = await call('POST', '/images', { uploads: [secondUpload] });
    const queued = performance.now();
    await imageUntil(call, second.id, (i) => i.status !== 'Queued', 20);
    const pickedUp = performance.now();
    const firstRecord = async () =>
      (
        await documents.send(
          new GetCommand({ TableName: platform.settings.imagesTable, Key: { id: created.id } }),
        )
      ).Item!;
    const removalDoneAtPickup = Boolean((await firstRecord()).uploadsRemovedAt);
    let removedAfterMs = 0;
    while (!(await firstRecord()).uploadsRemovedAt) await new Promise((resolve) => setTimeout(resolve, 50));
    removedAfterMs = performance.now() - converted;

    let jobMs: number | undefined;
    if (algorithmImage) {
      const algorithm = await call('POST', '/algorithms', {
        title: 'Threshold',
        image: algorithmImage,
        interfaces: [
          {
            inputs: [
              { slug: 'ct-image', kind: 'image', relativePath: 'images/ct' },
              { slug: 'threshold', kind: 'json', relativePath: 'threshold.json' },
            ],
            outputs: [
              { slug: 'mask', kind: 'image', relativePath: 'images/mask' },
              { slug: 'results', kind: 'json', relativePath: 'results.json', schema: { type: 'object' } },
            ],
          },
        ],
      });
      const jobStarted = performance.now();
      const job = await call('POST', '/jobs', {
        algorithm: algorithm.id,
        inputs: [
          { socket: 'ct-image', image: created.id },
          { socket: 'threshold', value: 0 },
        ],
      });
      for (;;) {
        const read = await call('GET', `/jobs/${job.id}`);
        if (['Succeeded', 'Failed', 'Cancelled'].includes(read.status)) {
          if (read.status !== 'Succeeded')
            throw new Error(`the job ended ${read.status}: ${JSON.stringify(read)}`);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      jobMs = performance.now() - jobStarted;
    }

    const uploadMs = uploaded - started;
    const conversionMs = converted - uploaded;
    console.log(
      `upload phase ${seconds(uploadMs)} for ${(bytes / 1e6).toFixed(0)} MB; conversion ${seconds(conversionMs)} ` +
        `(POST /v1/images claimed the ${CT_SIZE[2]} uploads in ${seconds(claimed - uploaded)}); ` +
        (jobMs === undefined
          ? 'job: no container engine answers, not run; '
          : `job ${seconds(jobMs)} (the example algorithm); total ${seconds(uploadMs + conversionMs + jobMs)}; `),
    );
    console.log(
      `a second image queued as the first was converted waited ${seconds(pickedUp - queued)} to be picked up ` +
        `(target under 0.5 s; read every 20 ms; an image queued while nothing runs: ${seconds(idlePickupMs)}), ` +
        `while the first one's uploads were ${removalDoneAtPickup ? 'already removed' : 'still being removed'}; ` +
        `their removal ended ${seconds(removedAfterMs)} after the conversion`,
    );

    // Claims alone: nothing converts meanwhile.
    await platform.functions.stopTriggers();
    for (const count of [2000, 10_000]) {
      const ids = await storedUploads(platform, documents, count);
      const claimStarted = performance.now();
      const outcome = await call('POST', '/images', { uploads: ids }).then(
        () => 'created',
        (err: Error) => `refused: ${err.message.slice(0, 200)}`,
      );
      console.log(
        `POST /v1/images of ${count} uploads: ${seconds(performance.now() - claimStarted)}, ${outcome}`,
      );
    }
  } finally {
    documents.destroy();
    await platform.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchStudyUploads().catch((err: Error) => {
    console.error(err.stack);
    process.exit(1);
  });
}
