import { buildSourceKey, UPLOADS_PREFIX } from '../../contracts/bucket-layout';
import { BUILD_QUEUE } from '../../contracts/builds';
import { BackgroundFunction } from '../../contracts/handler-deployment';
import { OBJECT_ENCRYPTION } from '../../contracts/permissions';

/**
 * Starts the build pipeline for each build whose context upload completed: wraps the context in
 * the pipeline's source object, then starts an execution with the build's variables.
 */
export const backgroundFunction: BackgroundFunction = {
  handler: 'builds/start-build',
  description: "Wraps a build's context as the pipeline's source object and starts the build pipeline",
  trigger: { kind: 'queue', queue: 'builds', batchSize: 1, reportBatchItemFailures: true },
  // Memory buys network throughput for streaming the context; it ends before the queue offers
  // the message again.
  sizing: { memoryMiB: 1024, timeoutSeconds: BUILD_QUEUE.visibilityTimeoutSeconds - 60 },
  permissions: {
    // The build and its upload are read; the execution is recorded on the build, or a build
    // cancelled meanwhile has its execution stopped; a build that cannot be started fails, its
    // slot given back.
    tables: {
      builds: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      uploads: ['dynamodb:GetItem'],
      usage: ['dynamodb:UpdateItem'],
    },
    imagingObjects: [
      { prefix: UPLOADS_PREFIX, actions: ['s3:GetObject'] },
      { prefix: buildSourceKey('*', '*'), actions: ['s3:PutObject', 's3:AbortMultipartUpload'] },
    ],
    objectEncryption: OBJECT_ENCRYPTION,
    runsBuilds: ['start', 'stop'],
  },
};
