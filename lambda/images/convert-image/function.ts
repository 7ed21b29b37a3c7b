// Only the list: the descriptor is bundled into every handler that lists the deployments.
import { CODEC_WASM_FILES } from '@imaging-platform/image-io/codec-files';
import { IMAGES_PREFIX, JOBS_PREFIX, UPLOADS_PREFIX } from '../../contracts/bucket-layout';
import { CONVERSION_QUEUE } from '../../contracts/conversion-queue';
import { CONVERSION_SCRATCH } from '../../contracts/converter-jobs';
import { BackgroundFunction } from '../../contracts/handler-deployment';
import { HandlerPermissions, OBJECT_ENCRYPTION } from '../../contracts/permissions';
import { JOB_OUTPUT_SETTLEMENT_TABLES } from '../../jobs/job-output-settlement-tables';

/**
 * What converting an image touches, in the function and in the converter container alike: the
 * image and usage items it reads and updates, the image's file pages, the raw uploads it
 * reads and deletes (DeleteObjects needs s3:DeleteObject on each key),
 * the job outputs it reads, the images it writes, the job an output image settles, and the bucket
 * key through S3. It deletes image items only to take back the siblings it wrote for an image
 * that another worker failed.
 */
export const CONVERSION_PERMISSIONS = {
  tables: {
    images: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
    imageFiles: ['dynamodb:Query'],
    usage: ['dynamodb:UpdateItem'],
    ...JOB_OUTPUT_SETTLEMENT_TABLES,
  },
  imagingObjects: [
    { prefix: UPLOADS_PREFIX, actions: ['s3:GetObject', 's3:DeleteObject'] },
    // Large images are stored in parts; a failed upload is aborted.
    { prefix: IMAGES_PREFIX, actions: ['s3:PutObject', 's3:AbortMultipartUpload'] },
    // Images that algorithms made, read where the job runner stored them.
    { prefix: JOBS_PREFIX, actions: ['s3:GetObject'] },
  ],
  objectEncryption: OBJECT_ENCRYPTION,
} as const satisfies HandlerPermissions;

const MiB = 1024 ** 2;

/**
 * Consumes the conversion queue one image set at a time, converting small sets itself and
 * submitting the others to the converter container's Batch queue.
 */
export const backgroundFunction: BackgroundFunction = {
  handler: 'images/convert-image',
  description: 'Converts the upload set of one image to .mha, or sends it to the converter container',
  trigger: {
    kind: 'queue',
    queue: 'conversion',
    batchSize: 1,
    reportBatchItemFailures: true,
    // So that a burst of uploads cannot take the account's Lambda concurrency.
    maxConcurrency: 10,
  },
  // The largest set it converts gets 4 times its size in memory (a file, its volume and the
  // written image at once) and its size plus 512 MiB in /tmp, where the set is downloaded. SQS
  // hides a message for the queue's visibility timeout: the function ends before it.
  sizing: ({ lambdaMaxSetBytes }) => {
    const setMiB = Math.ceil(Number(lambdaMaxSetBytes) / MiB);
    return {
      memoryMiB: Math.min(10_240, Math.max(1024, 4 * setMiB)),
      ephemeralStorageMiB: Math.min(10_240, setMiB + 512),
      timeoutSeconds: CONVERSION_QUEUE.visibilityTimeoutSeconds - 60,
    };
  },
  // It queues the removal of a converted image's uploads on its own queue.
  permissions: { ...CONVERSION_PERMISSIONS, submitsConversions: true, queuesConversions: true },
  settings: [CONVERSION_SCRATCH],
  // libvips is native; pictures and slides go to the converter container, not this function.
  externalModules: ['sharp'],
  // The DICOM codecs' WebAssembly, which each codec loads from the bundle's folder.
  bundledModuleFiles: CODEC_WASM_FILES,
};
