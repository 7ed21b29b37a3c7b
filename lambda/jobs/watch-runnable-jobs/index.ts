import { BatchClient } from '@aws-sdk/client-batch';
import { CONVERTER_JOBS } from '../../contracts/converter-jobs';
import { COUNTED_LOG_LINES } from '../../contracts/counted-log-lines';
import { parseEnvironment } from '../../contracts/handler-environment';
import { JOB_QUEUES } from '../../contracts/job-queues';
import { backgroundHandler } from '../../core/background-handler';
import { logger } from '../../core/logger';
import { runnableWait, RunnableWait } from '../runnable-wait';
import { backgroundFunction } from './function';

parseEnvironment(backgroundFunction);
const { gpuJobQueue, cpuJobQueue, inputStagingJobQueue } = JOB_QUEUES.read();
const { converterJobQueue } = CONVERTER_JOBS.read();
const batch = new BatchClient({});

/**
 * Runs on a schedule: one line per queue with its RUNNABLE jobs and the oldest one's wait, an
 * empty queue's included (0), so that the metric the alarm reads has a value every time.
 */
async function watchRunnableJobs(): Promise<RunnableWait[]> {
  const waits = await Promise.all(
    [gpuJobQueue, cpuJobQueue, converterJobQueue, inputStagingJobQueue].map((queue) =>
      runnableWait(batch, queue),
    ),
  );
  // A metric filter on these lines feeds the alarm (JobAlarms).
  for (const wait of waits) logger.info(COUNTED_LOG_LINES.runnableWait, { ...wait });
  return waits;
}

export const handler = backgroundHandler(watchRunnableJobs);
