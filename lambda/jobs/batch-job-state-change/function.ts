import { JOBS_PREFIX } from '../../contracts/bucket-layout';
import { BackgroundFunction } from '../../contracts/handler-deployment';

/** Moves jobs forward as Batch reports their state. */
export const backgroundFunction: BackgroundFunction = {
  handler: 'jobs/batch-job-state-change',
  description: 'Moves jobs forward on Batch Job State Change events of the platform queues',
  trigger: { kind: 'batchJobStateChange', queues: ['gpu', 'cpu'] },
  permissions: {
    // A terminal event reads the job's key, manifest and result record to judge its outputs.
    // Image outputs become images of the job's owner, queued for conversion once the job waits
    // for them.
    tables: {
      jobs: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      activeJobs: ['dynamodb:UpdateItem'],
      images: ['dynamodb:PutItem'],
    },
    queuesConversions: true,
    imagingObjects: [{ prefix: JOBS_PREFIX, actions: ['s3:GetObject'] }],
    objectEncryption: ['kms:Decrypt'],
  },
};
