import { BatchClient, TerminateJobCommand } from '@aws-sdk/client-batch';
import { conflict } from '../../api/api-error';
import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { isTerminal, jobView, TERMINAL_SEQUENCE } from '../job-record';
import { moveJob } from '../job-move';
import { getVisibleJob } from '../job-store';

parseEnvironment(operation);

const batch = new BatchClient({});

/**
 * `POST /v1/jobs/{jobId}/cancel`: its creator or an algorithm editor stops a job that has not
 * ended. The job is recorded Cancelled before Batch is told to stop it, so that the end the
 * termination brings about (a FAILED event) cannot take the cancellation's place. Asked again for
 * a job it cancelled, it tells Batch again: a termination that failed the first time is retried,
 * and Batch takes a second one as the same.
 */
export const handler = apiHandler(operation, async ({ caller, pathParameters }) => {
  const { job } = await getVisibleJob(pathParameters.jobId, caller.userId);
  if (isTerminal(job.status) && job.status !== 'Cancelled') {
    throw conflict(`job ${job.id} has already ended: ${job.status}`);
  }
  // A job cancelled while its outputs were parsed registers none of them; their conversions,
  // finishing later, find it ended and change nothing.
  const cancelled =
    job.status === 'Cancelled'
      ? job
      : await moveJob(job.id, {
          status: 'Cancelled',
          sequence: TERMINAL_SEQUENCE,
          statusReason: 'cancelled by a user',
          fields: { stoppedAt: new Date().toISOString(), outputs: [] },
        });
  // Ended meanwhile by its own: the state it reached stands.
  if (!cancelled) throw conflict(`job ${job.id} ended before it could be cancelled`);
  // The staging job too, so that no input is copied for a job that will not run.
  for (const batchJobId of [job.batchJobId, job.inputStagingBatchJobId]) {
    if (batchJobId) {
      await batch.send(
        new TerminateJobCommand({ jobId: batchJobId, reason: `Cancelled by ${caller.userId}` }),
      );
    }
  }
  return { status: 200, body: jobView(cancelled) };
});
