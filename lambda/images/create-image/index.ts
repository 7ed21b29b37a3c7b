import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { apiHandler } from '../../api/api-handler';
import { checkItemFits } from '../../api/item-limits';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { IMAGE_ITEM_RESERVE_BYTES, ImageRecord, imageView, QUEUED_DETAIL } from '../image-record';
import { deleteUnqueuedImage, putImage } from '../image-store';
import { CONVERSION_QUEUE_URL, ConversionMessage } from '../../contracts/conversion-queue';
import { claimUploadsForImage, releaseUploadsFromImage } from '../../uploads/upload-store';

parseEnvironment(operation);

interface CreateImageRequest {
  uploads: string[];
  name?: string;
}

const sqs = new SQSClient({});
const { conversionQueueUrl } = CONVERSION_QUEUE_URL.read();

/**
 * `POST /v1/images`: claims the caller's completed uploads, records the image as Queued and
 * sends one message to the conversion queue. Any failure undoes the earlier steps.
 */
export const handler = apiHandler<CreateImageRequest>(operation, async ({ caller, body }) => {
  const id = randomUUID();
  const uploads = await claimUploadsForImage(body.uploads, caller.userId, id);
  const now = new Date().toISOString();
  const record: ImageRecord = {
    id,
    owner: caller.userId,
    name: body.name ?? uploads[0].filename,
    status: 'Queued',
    statusDetail: QUEUED_DETAIL,
    files: uploads.map((u) => ({ uploadId: u.id, filename: u.filename, size: u.size })),
    errors: [],
    metadata: {},
    createdAt: now,
    updatedAt: now,
  };
  try {
    checkItemFits(record, 'the image with these files', IMAGE_ITEM_RESERVE_BYTES);
    await putImage(record);
    const message: ConversionMessage = { imageId: id };
    await sqs.send(
      new SendMessageCommand({ QueueUrl: conversionQueueUrl, MessageBody: JSON.stringify(message) }),
    );
  } catch (err) {
    await deleteUnqueuedImage(id);
    await releaseUploadsFromImage(body.uploads, id);
    throw err;
  }
  return { status: 201, body: imageView(record) };
});
