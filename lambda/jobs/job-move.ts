import { recordMetric } from '../core/business-metrics';
import { JobRecord } from './job-record';
import { releaseJobSlots } from './job-slots';
import { advanceJob, JobChange, JobCondition } from './job-store';

/**
 * Moves a job forward (see `advanceJob`) and, when this write ended it, gives its slots back and
 * counts the end (`JobsEnded`): every path that ends a job goes through here, so the slots come
 * back once and each job is counted once.
 */
export async function moveJob(
  id: string,
  change: JobChange,
  condition?: JobCondition,
): Promise<JobRecord | undefined> {
  const moved = await advanceJob(id, change, condition);
  if (moved?.releasedSlots) await releaseJobSlots(moved.job.owner, moved.job.algorithmId);
  if (moved?.ended) {
    const { status, queue } = moved.job;
    if (status === 'Succeeded' || status === 'Failed' || status === 'Cancelled') {
      recordMetric('JobsEnded', 1, { Status: status, Queue: queue });
    }
  }
  return moved?.job;
}
