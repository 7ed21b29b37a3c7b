import { UPLOADS_PREFIX } from '../../contracts/bucket-layout';
import { BackgroundFunction } from '../../contracts/handler-deployment';
import { UPLOAD_LIMITS } from '../../contracts/upload-limits';

/** Every hour, aborts the uploads left Pending past the limit. */
export const backgroundFunction: BackgroundFunction = {
  handler: 'uploads/upload-sweeper',
  description: 'Aborts uploads left Pending past the limit and returns their quota',
  trigger: { kind: 'schedule', everyMinutes: 60 },
  sizing: { timeoutSeconds: 600 },
  permissions: {
    tables: {
      uploads: ['dynamodb:Scan', 'dynamodb:UpdateItem'],
      usage: ['dynamodb:UpdateItem'],
      // A build whose context upload is aborted is cancelled, its slot given back.
      builds: ['dynamodb:UpdateItem'],
    },
    imagingObjects: [{ prefix: UPLOADS_PREFIX, actions: ['s3:AbortMultipartUpload'] }],
  },
  settings: [UPLOAD_LIMITS],
};
