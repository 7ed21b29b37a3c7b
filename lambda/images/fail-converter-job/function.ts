import { BackgroundFunction } from '../../contracts/handler-deployment';
import { JOB_OUTPUT_SETTLEMENT_TABLES } from '../../jobs/job-output-settlement-tables';

/** Marks Failed the image of a converter container job that failed. */
export const backgroundFunction: BackgroundFunction = {
  handler: 'images/fail-converter-job',
  description: 'Marks Failed the images whose converter container job failed',
  trigger: { kind: 'batchJobStateChange', queues: ['converter'], statuses: ['FAILED'] },
  // A failed output image fails its job.
  permissions: {
    tables: { images: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], ...JOB_OUTPUT_SETTLEMENT_TABLES },
  },
};
