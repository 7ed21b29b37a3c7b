/**
 * The `Batch Job State Change` events that EventBridge delivers for the platform's queues, as far
 * as its handlers read them. Batch sends them; local mode's Batch stand-in and job executor send
 * the same.
 */
export interface BatchJobDetail {
  readonly jobId: string;
  readonly jobName?: string;
  /** The queue's ARN. */
  readonly jobQueue: string;
  readonly status: 'SUBMITTED' | 'PENDING' | 'RUNNABLE' | 'STARTING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  readonly statusReason?: string;
  /** The attempts that ended, oldest first: a spot reclaim's reads `Host EC2 (instance ...) terminated.` */
  readonly attempts?: readonly {
    container?: { exitCode?: number; reason?: string; logStreamName?: string };
    statusReason?: string;
    startedAt?: number;
    stoppedAt?: number;
  }[];
  readonly container?: { exitCode?: number; reason?: string; logStreamName?: string };
  readonly startedAt?: number;
  readonly stoppedAt?: number;
}

export interface BatchJobStateChange {
  readonly source: 'aws.batch';
  readonly 'detail-type': 'Batch Job State Change';
  readonly detail: BatchJobDetail;
}
