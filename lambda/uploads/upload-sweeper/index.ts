import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ApiError } from '../../api/api-error';
import { dynamoDb } from '../../core/aws-clients';
import { backgroundHandler } from '../../core/background-handler';
import { logger } from '../../core/logger';
import { IMAGING_BUCKET } from '../../contracts/bucket-layout';
import { parseEnvironment } from '../../contracts/handler-environment';
import { tableName } from '../../contracts/tables';
import { UPLOAD_LIMITS } from '../../contracts/upload-limits';
import { abortUpload } from '../abort-pending-upload';
import { UploadRecord } from '../upload-record';
import { backgroundFunction } from './function';

parseEnvironment(backgroundFunction);
const { incompleteUploadDays } = UPLOAD_LIMITS.read();
const { imagingBucket } = IMAGING_BUCKET.read();

/**
 * Runs on a schedule: aborts uploads left Pending longer than `incompleteUploadDays`, so their
 * parts stop costing storage and their bytes return to the owner's quota. S3's lifecycle rule
 * aborts the same multipart uploads; this keeps the records and quotas in step with it.
 */
async function sweepUploads(): Promise<{ aborted: number }> {
  const cutoff = new Date(Date.now() - incompleteUploadDays * 24 * 3600 * 1000).toISOString();
  let aborted = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamoDb().send(
      new ScanCommand({
        TableName: tableName('uploads'),
        FilterExpression: '#status = :pending AND createdAt < :cutoff',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pending': 'Pending', ':cutoff': cutoff },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const upload of (page.Items ?? []) as UploadRecord[]) {
      if (await abortAbandoned(upload)) aborted++;
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  logger.info('abandoned uploads aborted', { aborted, cutoff });
  return { aborted };
}

async function abortAbandoned(upload: UploadRecord): Promise<boolean> {
  try {
    await abortUpload(upload, imagingBucket);
    return true;
  } catch (err) {
    // Completed or aborted by its owner meanwhile: theirs is the last word.
    if (err instanceof ApiError) return false;
    throw err;
  }
}

export const handler = backgroundHandler(sweepUploads);
