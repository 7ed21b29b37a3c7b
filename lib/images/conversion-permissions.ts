import { IMAGES_PREFIX, JOBS_PREFIX, UPLOADS_PREFIX } from '../../lambda/contracts/bucket-layout';
import { OperationPermissions } from '../core/operation-permissions';

/**
 * What converting an image touches, in the function and in the container alike: the image,
 * upload and usage items it reads and updates, the raw uploads it reads, tags and deletes, the
 * job outputs it reads, the images it writes, and the bucket key through S3.
 */
export const CONVERSION_PERMISSIONS = {
  tables: {
    images: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem'],
    uploads: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    usage: ['dynamodb:UpdateItem'],
  },
  imagingObjects: [
    { prefix: UPLOADS_PREFIX, actions: ['s3:GetObject', 's3:PutObjectTagging', 's3:DeleteObject'] },
    { prefix: IMAGES_PREFIX, actions: ['s3:PutObject'] },
    // Images that algorithms made, read where the job runner stored them.
    { prefix: JOBS_PREFIX, actions: ['s3:GetObject'] },
  ],
  objectEncryption: ['kms:GenerateDataKey', 'kms:Decrypt'],
} as const satisfies OperationPermissions;
