import { BackgroundFunction } from '../../contracts/handler-deployment';

/** Marks Failed the images whose conversion messages reached the dead-letter queue. */
export const backgroundFunction: BackgroundFunction = {
  handler: 'images/fail-unconverted-image',
  description: 'Marks Failed the images whose conversion failed on every try',
  trigger: { kind: 'queue', queue: 'conversionDeadLetters', batchSize: 10 },
  permissions: { tables: { images: ['dynamodb:UpdateItem'] } },
};
