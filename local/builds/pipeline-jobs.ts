import { randomUUID } from 'node:crypto';

/** A job's answer, as PutJobSuccessResult or PutJobFailureResult gave it. */
export type JobOutcome =
  | { readonly succeeded: true }
  | { readonly succeeded: false; readonly message: string; readonly type?: string };

/** CodePipeline's error when a job is unknown, or already answered or given up on. */
export class PipelineJobError extends Error {
  constructor(
    readonly type: 'JobNotFoundException' | 'InvalidJobStateException',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The jobs of Lambda invoke actions waiting for their function's answer: each one is answered
 * once, by PutJobSuccessResult or PutJobFailureResult, or given up on when its action times out.
 */
export class PipelineJobs {
  private readonly waiting = new Map<string, (outcome: JobOutcome) => void>();
  /** Jobs that ended, by how: a second answer is refused, as CodePipeline refuses it. */
  private readonly ended = new Map<string, string>();
  /** Answers recorded, oldest first: for tests and tools. */
  readonly answers: { readonly jobId: string; readonly outcome: JobOutcome }[] = [];

  /** A new job; its outcome arrives by `answer`, or is the timeout's failure. */
  open(timeoutMs: number): { readonly id: string; readonly outcome: Promise<JobOutcome> } {
    const id = randomUUID();
    const outcome = new Promise<JobOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.end(id, 'TimedOut');
        resolve({
          succeeded: false,
          type: 'JobFailed',
          message: 'The action timed out: its function never reported a result',
        });
      }, timeoutMs);
      this.waiting.set(id, (answered) => {
        clearTimeout(timer);
        resolve(answered);
      });
    });
    return { id, outcome };
  }

  /** Records a function's answer; refuses an unknown job and one that ended. */
  answer(jobId: string, outcome: JobOutcome): void {
    const settle = this.waiting.get(jobId);
    if (!settle) {
      const state = this.ended.get(jobId);
      if (state) throw new PipelineJobError('InvalidJobStateException', `job ${jobId} is ${state}`);
      throw new PipelineJobError('JobNotFoundException', `job ${jobId} does not exist`);
    }
    this.end(jobId, outcome.succeeded ? 'Succeeded' : 'Failed');
    this.answers.push({ jobId, outcome });
    settle(outcome);
  }

  /** Gives up on a job whose execution was abandoned. */
  abandon(jobId: string): void {
    const settle = this.waiting.get(jobId);
    if (!settle) return;
    this.end(jobId, 'Abandoned');
    settle({ succeeded: false, message: 'abandoned' });
  }

  private end(jobId: string, state: string): void {
    this.waiting.delete(jobId);
    this.ended.set(jobId, state);
  }
}
