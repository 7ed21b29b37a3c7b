import { BatchClient, DescribeJobsCommand, ListJobsCommand } from '@aws-sdk/client-batch';

/** How long the jobs of one Batch queue have waited RUNNABLE, for an instance or for Fargate capacity. */
export interface RunnableWait {
  readonly jobQueue: string;
  readonly runnableJobs: number;
  /** Seconds the job waiting longest has been RUNNABLE; 0 when none is. */
  readonly oldestRunnableSeconds: number;
}

/** DescribeJobs takes at most 100 jobs a call. */
const DESCRIBE_LIMIT = 100;

/**
 * The RUNNABLE jobs of `jobQueue`, every page of them, and how long the oldest has waited. Batch
 * publishes no such metric. A job is RUNNABLE since it was submitted, or since its last attempt
 * ended when Batch runs it again (a spot reclaim): its attempts come from DescribeJobs, as
 * ListJobs leaves them out. The time a job waited for the jobs it depends on (its input staging,
 * minutes) counts too.
 */
export async function runnableWait(
  batch: BatchClient,
  jobQueue: string,
  now = Date.now(),
  pageSize = 100,
): Promise<RunnableWait> {
  const created = new Map<string, number>();
  let nextToken: string | undefined;
  do {
    const page = await batch.send(
      new ListJobsCommand({ jobQueue, jobStatus: 'RUNNABLE', maxResults: pageSize, nextToken }),
    );
    for (const job of page.jobSummaryList ?? []) created.set(job.jobId!, job.createdAt ?? now);
    nextToken = page.nextToken;
  } while (nextToken);

  const ids = [...created.keys()];
  let oldest = now;
  let runnableJobs = 0;
  for (let from = 0; from < ids.length; from += DESCRIBE_LIMIT) {
    const described = await batch.send(
      new DescribeJobsCommand({ jobs: ids.slice(from, from + DESCRIBE_LIMIT) }),
    );
    for (const job of described.jobs ?? []) {
      // It left the queue between the two calls.
      if (job.status !== 'RUNNABLE') continue;
      const lastAttemptEnded = Math.max(0, ...(job.attempts ?? []).map((a) => a.stoppedAt ?? 0));
      oldest = Math.min(oldest, Math.max(created.get(job.jobId!) ?? now, lastAttemptEnded));
      runnableJobs++;
    }
  }
  return { jobQueue, runnableJobs, oldestRunnableSeconds: Math.max(0, Math.floor((now - oldest) / 1000)) };
}
