import { BackgroundFunction } from '../../contracts/handler-deployment';

/** Marks Failed the image of a converter container job that failed. */
export const backgroundFunction: BackgroundFunction = {
  handler: 'images/fail-converter-job',
  description: 'Marks Failed the images whose converter container job failed',
  trigger: { kind: 'batchJobStateChange', queues: ['converter'], statuses: ['FAILED'] },
  permissions: { tables: { images: ['dynamodb:UpdateItem'] } },
};
