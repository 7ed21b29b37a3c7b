import { BackgroundFunction } from '../../contracts/handler-deployment';
import { JOB_OUTPUT_SETTLEMENT_TABLES } from '../../jobs/job-output-settlement-tables';

/** Marks Failed the images whose conversion messages reached the dead-letter queue. */
export const backgroundFunction: BackgroundFunction = {
  handler: 'images/fail-unconverted-image',
  description: 'Marks Failed the images whose conversion failed on every try',
  trigger: { kind: 'queue', queue: 'conversionDeadLetters', batchSize: 10 },
  // A failed output image fails its job.
  permissions: {
    tables: { images: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], ...JOB_OUTPUT_SETTLEMENT_TABLES },
  },
};
