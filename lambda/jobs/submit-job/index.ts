import { BatchClient, SubmitJobCommand, TerminateJobCommand } from '@aws-sdk/client-batch';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { ApiError, conflict } from '../../api/api-error';
import { apiHandler } from '../../api/api-handler';
import { checkItemFits, checkNesting } from '../../api/item-limits';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { getVisibleAlgorithm } from '../../algorithms/algorithm-store';
import { s3 } from '../../core/aws-clients';
import { IMAGING_BUCKET, jobManifestKey } from '../../contracts/bucket-layout';
import { JOB_LIMITS, JOB_QUEUES } from '../../contracts/job-queues';
import { OUTPUT_LIMITS, RESULT_SIGNING, WRITABLE_ROOT } from '../../contracts/job-runner';
import { recordMetric } from '../../core/business-metrics';
import { logger } from '../../core/logger';
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey } from '../idempotency';
import { checkInputs, matchInterface, pinSources, placeInputs } from '../job-inputs';
import { JobManifest } from '../job-manifest';
import { hasPredictionCopies, placePredictions } from '../job-predictions';
import { manifestModel } from '../job-model';
import { JOB_ITEM_RESERVE_BYTES, JobInput, JobRecord, jobView, TERMINAL_SEQUENCE } from '../job-record';
import { newResultSigningKey } from '../result-record';
import { acquireJobSlots, releaseJobSlots } from '../job-slots';
import { moveJob } from '../job-move';
import { getJob, putJob, recordSubmission } from '../job-store';

parseEnvironment(operation);

interface SubmitJobRequest {
  algorithm: string;
  inputs: JobInput[];
  predictions?: string[];
}

const limits = JOB_LIMITS.read();
const outputLimits = OUTPUT_LIMITS.read();
const writableRoot = WRITABLE_ROOT.read();
const queues = JOB_QUEUES.read();
const { imagingBucket } = IMAGING_BUCKET.read();
const batch = new BatchClient({});

/**
 * `POST /v1/jobs`: checks the inputs against the algorithm's interfaces and the caller's rights,
 * takes the active-job slots, writes the input manifest (each file input pinned to the version it
 * has now) and the job as Queued, and submits it to AWS Batch behind a staging job that copies its
 * inputs under its folder: copies of any size take as long as they take, outside this request.
 * A refused submission writes nothing; a failed SubmitJob leaves the job Failed with the reason
 * and its slots free.
 */
export const handler = apiHandler<SubmitJobRequest>(operation, async ({ caller, body, headers }) => {
  checkInputsFit(body.inputs, body.predictions);
  const id = randomUUID();
  const idempotencyKey = headers['idempotency-key'];
  if (idempotencyKey !== undefined) {
    const claim = await claimIdempotencyKey(caller.userId, idempotencyKey, body, id, async (jobId) =>
      Boolean(await getJob(jobId)),
    );
    if (!claim.fresh) {
      const first = await getJob(claim.jobId);
      return { status: 200, body: jobView(first!) };
    }
  }
  try {
    const job = await createJob(id, caller.userId, body);
    if (idempotencyKey !== undefined) await completeIdempotencyKey(caller.userId, idempotencyKey);
    return { status: 201, body: jobView(job) };
  } catch (err) {
    if (idempotencyKey !== undefined && err instanceof ApiError) {
      await releaseIdempotencyKey(caller.userId, idempotencyKey);
    }
    throw err;
  }
});

/**
 * Refuses, before anything is claimed or written, inputs that the job's item could not hold:
 * values nested too deep (each sits in a map of the inputs list), or too large with the room the
 * job keeps for the rest of its fields.
 */
function checkInputsFit(inputs: readonly JobInput[], predictions: readonly string[] = []): void {
  inputs.forEach((input, i) => checkNesting(input.value, `body.inputs[${i}].value`, 2));
  checkItemFits({ inputs, predictions }, "the job's inputs", JOB_ITEM_RESERVE_BYTES);
}

async function createJob(id: string, userId: string, request: SubmitJobRequest): Promise<JobRecord> {
  const { algorithm: found } = await getVisibleAlgorithm(request.algorithm, userId);
  const { activeVersion } = found;
  if (!activeVersion) {
    throw conflict(
      `algorithm ${found.id} has no active version yet: push a build (POST /v1/algorithms/${found.id}/builds) or add an image version`,
    );
  }
  if (!activeVersion.jobDefinition) {
    throw conflict(`the active version of algorithm ${found.id} has no job definition; add a version`);
  }
  const algorithm = {
    ...found,
    activeVersion: { ...activeVersion, jobDefinition: activeVersion.jobDefinition },
  };
  const interfaceIndex = matchInterface(algorithm, request.inputs);
  const checked = await checkInputs(
    `${algorithm.id}/${algorithm.activeVersion.id}`,
    algorithm.interfaces[interfaceIndex].inputs,
    request.inputs,
    userId,
  );
  const { placed, copies } = placeInputs(id, checked);
  const inputs = await pinSources(s3(), imagingBucket, placed, copies);
  const predictions = await placePredictions(
    s3(),
    imagingBucket,
    id,
    request.predictions ?? [],
    userId,
    inputs,
  );
  await acquireJobSlots(userId, algorithm.id, limits);

  const model = manifestModel(id, algorithm.activeModel);
  const now = new Date().toISOString();
  const job: JobRecord = {
    id,
    owner: userId,
    algorithmId: algorithm.id,
    algorithmVersionId: algorithm.activeVersion.id,
    image: algorithm.activeVersion.image,
    queue: algorithm.gpu ? 'gpu' : 'cpu',
    interfaceIndex,
    inputs: request.inputs,
    ...(request.predictions && { predictions: request.predictions }),
    outputs: [],
    status: 'Queued',
    sequence: 1,
    holdsSlots: true,
    inputManifestKey: jobManifestKey(id),
    ...(model && { model: { id: model.id, sha256: model.sha256 } }),
    resultSigningKey: newResultSigningKey(),
    createdAt: now,
    updatedAt: now,
  };
  try {
    const manifest: JobManifest = {
      jobId: id,
      image: job.image,
      timeLimitSeconds: algorithm.timeLimitSeconds,
      memoryGb: algorithm.memoryGb,
      gpu: algorithm.gpu,
      interface: algorithm.interfaces[interfaceIndex],
      inputs,
      ...(predictions.length > 0 && { predictions }),
      ...(model && { model }),
    };
    await s3().send(
      new PutObjectCommand({
        Bucket: imagingBucket,
        Key: job.inputManifestKey,
        ContentType: 'application/json',
        Body: JSON.stringify(manifest),
      }),
    );
    await putJob(job);
  } catch (err) {
    await releaseJobSlots(userId, algorithm.id);
    throw err;
  }
  // Counted once recorded: a job whose SubmitJob then fails also counts as ended Failed.
  recordMetric('JobsSubmitted', 1, { Queue: job.queue });

  let staging: string | undefined;
  try {
    // The algorithm's job waits for the copies of its inputs: Batch starts it once they succeeded
    // and fails it if they failed.
    if (copies.length > 0 || hasPredictionCopies(predictions) || model) {
      staging = (
        await batch.send(
          new SubmitJobCommand({
            jobName: `${id}-inputs`,
            jobQueue: queues.inputStagingJobQueue,
            jobDefinition: queues.inputStagingJobDefinition,
            parameters: { jobId: id },
          }),
        )
      ).jobId!;
    }
    const submitted = await batch.send(
      new SubmitJobCommand({
        jobName: id,
        ...(staging !== undefined && { dependsOn: [{ jobId: staging }] }),
        jobQueue: job.queue === 'gpu' ? queues.gpuJobQueue : queues.cpuJobQueue,
        jobDefinition: algorithm.activeVersion.jobDefinition,
        parameters: { jobId: id, inputManifest: `s3://${imagingBucket}/${job.inputManifestKey}` },
        // Only the runner sees the key it signs the result with, and the limits it stores /output
        // within and names; the algorithm's environment never holds them.
        containerOverrides: {
          environment: Object.entries({
            ...RESULT_SIGNING.variables({ resultSigningKey: job.resultSigningKey }),
            ...OUTPUT_LIMITS.variables(outputLimits),
            ...WRITABLE_ROOT.variables(writableRoot),
          }).map(([name, value]) => ({ name, value })),
        },
        // Batch stops the attempt at the algorithm's limit plus time to upload its outputs.
        timeout: { attemptDurationSeconds: algorithm.timeLimitSeconds + 300 },
        tags: { 'imaging-platform:job': id, 'imaging-platform:algorithm': algorithm.id },
        propagateTags: true,
      }),
    );
    await recordSubmission(id, submitted.jobId!, staging);
    return {
      ...job,
      batchJobId: submitted.jobId,
      ...(staging !== undefined && { inputStagingBatchJobId: staging }),
    };
  } catch (err) {
    logger.error('SubmitJob failed', { jobId: id, error: err as Error });
    // Copies for a job that will not run are not made.
    if (staging !== undefined) {
      await batch
        .send(new TerminateJobCommand({ jobId: staging, reason: 'its job could not be submitted' }))
        .catch((terminateError: Error) =>
          logger.warn('the staging job of a job that failed to submit was not stopped', {
            error: terminateError,
          }),
        );
    }
    const failed = await moveJob(id, {
      status: 'Failed',
      sequence: TERMINAL_SEQUENCE,
      statusReason: `the job could not be submitted: ${(err as Error).message}`,
      fields: { stoppedAt: new Date().toISOString() },
    });
    return failed ?? job;
  }
}
