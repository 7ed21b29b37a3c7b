// Figures of job execution in local mode (run by bench/run.ts in a process of its own): the job runner's own time around an algorithm that
// does nothing (podman or docker), placing a small and a 300 MB input apart, and the time from
// a terminal Batch event to the job's final state.
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findContainerEngine } from '../local/jobs/container-engine';
import { runJobLocally } from '../local/jobs/run-job-locally';
import { OUTPUT_LIMITS, WRITABLE_ROOT } from '../lambda/contracts/job-runner';
import { defaultPlatformConfig } from '../lib/config/platform-config';
import { localOptionsFromEnvironment } from '../local/local-options';
import { startLocalPlatform } from '../local/local-platform';
import { buildNodeImage } from '../local/jobs/node-image-builder';
import { freeLocalPorts } from '../test/helpers/free-ports';

const RUNS = 5;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function benchJobs(): Promise<void> {
  console.log('\n## Jobs in local mode: the runner around an algorithm that does nothing (median of 5)');
  const engine = findContainerEngine();
  if (!engine) {
    console.log('no container engine answers: no figures (Debian: apt-get install podman runc)');
    return;
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-jobs-'));
  const script = path.join(work, 'main.js');
  fs.writeFileSync(script, "require('node:fs').writeFileSync('/output/results.json', '{}');\n");
  const image = await buildNodeImage(engine, {
    tag: 'localhost/bench-does-nothing:latest',
    files: { '/opt/algorithm/main.js': script },
    user: '1000:1000',
    entrypoint: ['/usr/local/bin/node', '/opt/algorithm/main.js'],
  });
  const base = localOptionsFromEnvironment({ LOCAL_DATA_DIR: path.join(work, 'data') });
  // Jobs are recorded by the local Batch and run here, so that each phase can be timed.
  const platform = await startLocalPlatform({
    ...base,
    config: defaultPlatformConfig,
    ports: await freeLocalPorts(),
    jobs: 'record',
  });
  // As a shell with the variables `npm start` prints: this script's clients reach the embedded services.
  Object.assign(process.env, platform.environment);
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  // Handlers and the runner reach the embedded S3 through the variables local mode sets.
  const s3 = new S3Client({
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    const api = `${platform.urls.api}/v1`;
    const headers = { authorization: 'Bearer dev-alice', 'content-type': 'application/json' };
    const algorithm = (await (
      await fetch(`${api}/algorithms`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          title: 'Does nothing',
          interfaces: [
            {
              inputs: [{ slug: 'ct-image', kind: 'image', relativePath: 'images/ct' }],
              outputs: [{ slug: 'results', kind: 'json', relativePath: 'results.json' }],
            },
          ],
          image,
        }),
      })
    ).json()) as { id: string };
    const owner = platform.devUsers[0].claims.sub;
    // EventBridge's delivery to the state handler, in its sandbox (warm after the first event).
    const onEvent = (event: unknown) => platform.functions.get('jobs/batch-job-state-change').invoke(event);

    for (const [label, bytes] of [
      ['a 1 KiB input', 1024],
      ['a 300 MB input', 300 * 1000 ** 2],
    ] as const) {
      // A converted image as the converter leaves it.
      const imageId = randomUUID();
      const now = new Date().toISOString();
      await s3.send(
        new PutObjectCommand({
          Bucket: platform.settings.imagingBucket,
          Key: `images/${imageId}/ct.mha`,
          Body: Buffer.alloc(bytes, 7),
        }),
      );
      await documents.send(
        new PutCommand({
          TableName: platform.settings.imagesTable,
          Item: {
            ...{ id: imageId, owner, name: 'ct.mha', status: 'Succeeded', statusDetail: 'Converted' },
            ...{ files: [], errors: [], metadata: {}, outputKey: `images/${imageId}/ct.mha` },
            ...{ createdAt: now, updatedAt: now },
          },
        }),
      );
      const phases = {
        total: [] as number[],
        stageIn: [] as number[],
        run: [] as number[],
        removal: [] as number[],
      };
      const stageOut: number[] = [];
      const finish: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        const job = (await (
          await fetch(`${api}/jobs`, {
            method: 'POST',
            headers,
            body: JSON.stringify({
              algorithm: algorithm.id,
              inputs: [{ socket: 'ct-image', image: imageId }],
            }),
          })
        ).json()) as { id: string };
        // As Batch does with dependsOn: the job runs once its staging job has copied its inputs.
        await platform.batch.settled();
        const submitted = platform.batch.jobs.find((j) => j.jobName === job.id)!;
        const started = performance.now();
        const { record, timings } = await runJobLocally({
          s3,
          bucket: platform.settings.imagingBucket,
          manifestKey: `jobs/${job.id}/inputs.json`,
          resultSigningKey: submitted.environment.RESULT_SIGNING_KEY,
          outputLimits: OUTPUT_LIMITS.parse(submitted.environment),
          writableRootBytes: WRITABLE_ROOT.parse(submitted.environment).writableRootBytes,
          engine,
          graceSeconds: 1,
          onLine: () => undefined,
        });
        phases.total.push((performance.now() - started) / 1000);
        phases.stageIn.push(timings.stageIn);
        phases.run.push(record.execDuration);
        phases.removal.push(timings.container - record.execDuration);
        stageOut.push(timings.stageOut);
        const event = { jobId: submitted.jobId, jobName: job.id, jobQueue: submitted.jobQueue };
        const ending = performance.now();
        await onEvent({
          source: 'aws.batch',
          'detail-type': 'Batch Job State Change',
          detail: { ...event, status: 'SUCCEEDED' },
        });
        finish.push(performance.now() - ending);
      }
      const s = (v: number[]) => `${median(v).toFixed(2)} s`;
      console.log(
        `${label.padEnd(15)} runner total ${s(phases.total)}: placing inputs ${s(phases.stageIn)}, ` +
          `the container from start to exit ${s(phases.run)}, removing it ${s(phases.removal)}, ` +
          `storing outputs and the record ${s(stageOut)}`,
      );
      console.log(`${''.padEnd(15)} terminal event to final job state ${median(finish).toFixed(0)} ms`);
    }
  } finally {
    documents.destroy();
    s3.destroy();
    await platform.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  benchJobs().catch((err: Error) => {
    console.error(err.stack);
    process.exit(1);
  });
}
