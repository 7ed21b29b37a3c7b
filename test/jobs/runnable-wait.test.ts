import { BatchClient, DescribeJobsCommand, ListJobsCommand, SubmitJobCommand } from '@aws-sdk/client-batch';
import { COUNTED_LOG_LINES } from '../../lambda/contracts/counted-log-lines';
import { environmentVariables, PlatformSettings } from '../../lambda/contracts/handler-environment';
import { runnableWait } from '../../lambda/jobs/runnable-wait';
import { backgroundFunction as watchRunnableJobs } from '../../lambda/jobs/watch-runnable-jobs/function';
import { BatchStandIn, startBatchStandIn } from '../../local/services/batch';
import { freePorts } from '../helpers/free-ports';

// How long jobs have waited RUNNABLE, read from local mode's Batch stand-in: its queues are
// paused, so what is submitted waits RUNNABLE, as when no instance can be had.

const HOUR = 3_600_000;
let batch: BatchStandIn;
let client: BatchClient;

beforeAll(async () => {
  const [port] = await freePorts(1);
  batch = await startBatchStandIn({
    host: '127.0.0.1',
    port,
    // Jobs of this definition run at once, unless their queue is paused.
    runners: { job: async () => ({ exitCode: 0 }) },
  });
  batch.pauseQueue('held');
  batch.pauseQueue('other');
  client = new BatchClient({
    endpoint: batch.env.AWS_ENDPOINT_URL_BATCH,
    region: 'eu-central-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  batch.resumeQueue('held');
  batch.resumeQueue('other');
  await batch.settled();
  await batch.stop();
});

async function submit(jobQueue: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { jobId } = await client.send(
      new SubmitJobCommand({ jobName: `job-${i}`, jobQueue, jobDefinition: 'job' }),
    );
    ids.push(jobId!);
  }
  // The stand-in moves a job to RUNNABLE just after it answers.
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  return ids;
}

test('an empty queue has no RUNNABLE job and a wait of 0', async () => {
  expect(await runnableWait(client, 'empty')).toEqual({
    jobQueue: 'empty',
    runnableJobs: 0,
    oldestRunnableSeconds: 0,
  });
});

test("every page of a queue's RUNNABLE jobs counts; the oldest wait is the one since the earliest submission or retry", async () => {
  const ids = await submit('held', 5);
  // Another queue's jobs are not this queue's.
  await submit('other', 1);
  const submittedAt = Math.min(...batch.jobs.filter((j) => ids.includes(j.jobId)).map((j) => j.createdAt!));
  const send = jest.spyOn(client, 'send');
  const now = submittedAt + 2 * HOUR;

  const wait = await runnableWait(client, 'held', now, 2);
  expect(wait.runnableJobs).toBe(5);
  expect(wait.oldestRunnableSeconds).toBe(2 * 3600);
  // Three pages of two, then one description of the five.
  const listed = send.mock.calls.filter(([command]) => command instanceof ListJobsCommand);
  expect(listed).toHaveLength(3);
  expect(send.mock.calls.filter(([command]) => command instanceof DescribeJobsCommand)).toHaveLength(1);
  send.mockRestore();

  // Batch ran every job once and queued it again an hour in (a spot reclaim): each waits since.
  for (const job of batch.jobs.filter((j) => ids.includes(j.jobId))) {
    job.attempts.push({ startedAt: submittedAt + 0.5 * HOUR, stoppedAt: submittedAt + HOUR });
  }
  expect(await runnableWait(client, 'held', now, 2)).toEqual({
    jobQueue: 'held',
    runnableJobs: 5,
    oldestRunnableSeconds: 3600,
  });
});

test("the watcher logs one line per queue, as the alarm's metric filter reads them, an empty queue's with 0", async () => {
  const queues = {
    gpuJobQueue: 'held',
    cpuJobQueue: 'cpu',
    converterJobQueue: 'conversions',
    inputStagingJobQueue: 'staging',
  };
  const variables = environmentVariables(watchRunnableJobs, {
    ...queues,
    inputStagingJobDefinition: 'stager',
    converterJobDefinition: 'converter',
    lambdaMaxSetBytes: 1,
    businessMetricNamespace: 'Platform',
  } as unknown as PlatformSettings);
  const saved = { ...process.env };
  Object.assign(process.env, variables, {
    AWS_ENDPOINT_URL_BATCH: batch.env.AWS_ENDPOINT_URL_BATCH,
    AWS_REGION: 'eu-central-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    // The handler's own logger, loaded afresh below, at the level the deployed function logs.
    POWERTOOLS_LOG_LEVEL: 'INFO',
  });
  const lines: Record<string, unknown>[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    return true;
  });
  try {
    let handler!: (event: unknown) => Promise<unknown>;
    jest.isolateModules(() => {
      ({ handler } = require('../../lambda/jobs/watch-runnable-jobs'));
    });
    await handler({});
  } finally {
    write.mockRestore();
    process.env = saved;
  }
  const waits = lines.filter((line) => line.message === COUNTED_LOG_LINES.runnableWait);
  expect(waits.map((line) => line.jobQueue)).toEqual(Object.values(queues));
  for (const line of waits) expect(typeof line.oldestRunnableSeconds).toBe('number');
  expect(waits[0]).toMatchObject({ jobQueue: 'held', runnableJobs: 5 });
  expect(waits.slice(1).map((line) => [line.runnableJobs, line.oldestRunnableSeconds])).toEqual([
    [0, 0],
    [0, 0],
    [0, 0],
  ]);
});
