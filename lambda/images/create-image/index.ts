import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { badRequest } from '../../api/api-error';
import { apiHandler } from '../../api/api-handler';
import { checkItemFits } from '../../api/item-limits';
import { recordMetric } from '../../core/business-metrics';
import { parseEnvironment } from '../../contracts/handler-environment';
import { IMAGE_UPLOAD_LIMITS } from '../../contracts/upload-limits';
import { operation } from './operation';
import { IMAGE_ITEM_RESERVE_BYTES, ImageRecord, imageView, QUEUED_DETAIL } from '../image-record';
import { deleteUnqueuedImage, putImage } from '../image-store';
import { deleteImageFiles, putImageFiles } from '../image-files';
import { claimUploadsForImage, releaseUploadsFromImage } from '../upload-claims';
import { CONVERSION_QUEUE_URL, ConversionMessage } from '../../contracts/conversion-queue';

parseEnvironment(operation);

interface CreateImageRequest {
  uploads: string[];
  name?: string;
}

const sqs = new SQSClient({});
const { conversionQueueUrl } = CONVERSION_QUEUE_URL.read();
const { uploadsPerImage } = IMAGE_UPLOAD_LIMITS.read();

/**
 * `POST /v1/images`: claims the caller's completed uploads, stores their file list, records the
 * image as Queued and sends one message to the conversion queue. A request past the configured
 * number of uploads is refused before anything is written; any later failure undoes the earlier steps.
 */
export const handler = apiHandler<CreateImageRequest>(operation, async ({ caller, body }) => {
  if (body.uploads.length > uploadsPerImage) {
    throw badRequest(
      `an image is made of at most ${uploadsPerImage} uploads; this request names ${body.uploads.length}`,
    );
  }
  const id = randomUUID();
  const uploads = await claimUploadsForImage(body.uploads, caller.userId, id);
  const files = uploads.map((u) => ({ uploadId: u.id, filename: u.filename, size: u.size }));
  const now = new Date().toISOString();
  const record: ImageRecord = {
    id,
    owner: caller.userId,
    name: body.name ?? uploads[0].filename,
    status: 'Queued',
    statusDetail: QUEUED_DETAIL,
    fileCount: files.length,
    errors: [],
    metadata: {},
    createdAt: now,
    updatedAt: now,
  };
  let pageCount = 0;
  try {
    checkItemFits(record, 'the image', IMAGE_ITEM_RESERVE_BYTES);
    pageCount = await putImageFiles(id, files);
    await putImage(record);
    const message: ConversionMessage = { imageId: id };
    await sqs.send(
      new SendMessageCommand({ QueueUrl: conversionQueueUrl, MessageBody: JSON.stringify(message) }),
    );
  } catch (err) {
    await deleteUnqueuedImage(id);
    await deleteImageFiles(id, pageCount);
    await releaseUploadsFromImage(body.uploads, id);
    throw err;
  }
  recordMetric('ImagesCreated', 1);
  return { status: 201, body: imageView(record, files) };
});
