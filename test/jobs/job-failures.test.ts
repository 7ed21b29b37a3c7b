import { BatchJobDetail } from '../../lambda/contracts/batch-job-state-change';
import { jobOutcome } from '../../lambda/jobs/job-outcome';
import { batchFailure } from '../../lambda/jobs/job-progress';
import { newResultSigningKey, ResultRecord, signResult } from '../../lambda/jobs/result-record';

// Whose failure ended a job: the operator hears of the platform's, never of the algorithm's.

const failedEvent = (fields: Partial<BatchJobDetail>): BatchJobDetail => ({
  jobId: 'batch-1',
  jobQueue: 'arn:aws:batch:eu-central-1:000000000000:job-queue/q',
  status: 'FAILED',
  ...fields,
});

test.each<[string, Partial<BatchJobDetail>, string]>([
  [
    'its host terminated past the retries',
    {
      statusReason: 'Host EC2 (instance i-0abc) terminated.',
      attempts: [{ statusReason: 'Host EC2 (instance i-0abc) terminated.' }],
    },
    'Host EC2 (instance i-0abc) terminated.',
  ],
  [
    'no capacity for as long as the queue waits',
    {
      statusReason:
        'Canceled by JobStateTimeLimit action due to reason: CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY',
    },
    "AWS had no instance for the job for as long as the platform waits (the account's vCPU quota for the instance type, or spot capacity); it was cancelled without running",
  ],
  [
    'its inputs not staged',
    { statusReason: 'Dependent Job failed' },
    "the job's input files could not be copied for it",
  ],
  [
    'its image not pulled',
    { container: { reason: 'CannotPullContainerError: pull access denied' } },
    'the image could not be started',
  ],
  [
    "Batch's attempt timeout, past the runner's margin",
    { statusReason: 'Job attempt duration exceeded timeout' },
    'time limit exceeded',
  ],
  [
    'the runner stopped before it recorded a result',
    { container: { exitCode: 1 } },
    "the job runner stopped with exit code 1 before it recorded a result; the job's log says why",
  ],
])('a job failed by the platform: %s', (_, fields, reason) => {
  expect(batchFailure(failedEvent(fields))).toEqual({ reason, failedBy: 'platform' });
});

test.each<[string, Partial<BatchJobDetail>, string]>([
  ['out of memory', { container: { exitCode: 137 } }, 'the algorithm exceeded its memory limit'],
  [
    'an image that will not start',
    { container: { reason: 'CannotStartContainerError: exec format error' } },
    'the image could not be started',
  ],
])('a job failed by the algorithm: %s', (_, fields, reason) => {
  expect(batchFailure(failedEvent(fields))).toEqual({ reason, failedBy: 'algorithm' });
});

describe("a job's outcome from its result record", () => {
  const key = newResultSigningKey();
  const job = { id: 'job-1', resultSigningKey: key, algorithmId: 'a', algorithmVersionId: 'v' };
  const nothingStored = { read: async () => undefined, head: async () => undefined };
  const succeeded = failedEvent({ status: 'SUCCEEDED' });
  const record = (fields: Partial<ResultRecord>): string =>
    signResult(
      { jobId: job.id, returnCode: 0, execDuration: 1, timedOut: false, outputs: [], ...fields },
      key,
    );
  const outcome = (result: string | undefined) =>
    jobOutcome(succeeded, job, null, nothingStored, result, 1000);

  test("is the algorithm's when it exits non-zero, times out or is refused by the runner", async () => {
    for (const result of [
      record({ returnCode: 2, lastStderrLine: 'boom' }),
      record({ timedOut: true }),
      record({ returnCode: 137 }),
      record({ returnCode: -1, runnerFailure: 'the image runs as root, which the platform refuses' }),
    ]) {
      expect(await outcome(result)).toMatchObject({ status: 'Failed', failedBy: 'algorithm' });
    }
  });

  test("is the platform's when the runner failed, left no record, or the record is not the job's", async () => {
    for (const result of [
      record({ returnCode: -1, runnerFailure: 'the job runner failed: S3 refused the upload' }),
      undefined,
      signResult({ jobId: job.id, returnCode: 0, execDuration: 1, timedOut: false, outputs: [] }, 'other'),
      // A record with no manifest to check its outputs against.
      record({}),
    ]) {
      expect(await outcome(result)).toMatchObject({ status: 'Failed', failedBy: 'platform' });
    }
  });
});
