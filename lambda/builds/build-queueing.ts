import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BUILD_QUEUE_URL, BuildMessage } from '../contracts/builds';
import { BuildRecord } from './build-record';
import { endBuild } from './build-ending';
import { findBuild, moveBuild } from './build-store';

let sqs: SQSClient | undefined;
const client = () => (sqs ??= new SQSClient({}));

type BuildKey = Pick<BuildRecord, 'algorithmId' | 'id'>;

/**
 * Queues a build whose context upload completed: Pending becomes Queued, then its message goes to
 * the build queue. Called again for the same build (a retried completion), a build still Queued
 * without an execution gets its message again, which the start handles once: nothing is lost
 * between the write and the send. The build as it is now.
 */
export async function queueBuild(build: BuildKey): Promise<BuildRecord | undefined> {
  const queued =
    (await moveBuild(build, {
      from: ['Pending'],
      to: 'Queued',
      statusDetail: 'its context is uploaded; waiting for the build pipeline',
      fields: { queuedAt: new Date().toISOString() },
    })) ?? (await findBuild(build.algorithmId, build.id));
  if (queued?.state === 'Queued' && queued.pipelineExecutionId === undefined) {
    const message: BuildMessage = { algorithmId: build.algorithmId, buildId: build.id };
    await client().send(
      new SendMessageCommand({
        QueueUrl: BUILD_QUEUE_URL.read().buildQueueUrl,
        MessageBody: JSON.stringify(message),
      }),
    );
  }
  return queued;
}

/** Cancels the build whose context upload was aborted, or discarded: it can never be built. */
export async function cancelUnuploadedBuild(build: BuildKey, why: string): Promise<void> {
  await endBuild(build, { state: 'Cancelled', statusDetail: why }, { from: ['Pending'] });
}
