import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { tableName } from '../contracts/tables';
import { dynamoDb } from '../core/aws-clients';
import { removeRawUpload } from '../uploads/raw-upload-removal';
import { UploadRecord } from '../uploads/upload-record';
import { BuildRecord } from './build-record';

/**
 * The context upload of a build that ended before its pipeline started (cancelled while queued,
 * or never started): it goes, and its bytes go back to the quota. Once the pipeline has its own
 * copy, the start removed it already, and this finds nothing to do.
 */
export async function releaseContextUpload(
  build: Pick<BuildRecord, 'uploadId'>,
  bucket: string,
): Promise<void> {
  const { Item } = await dynamoDb().send(
    new GetCommand({ TableName: tableName('uploads'), Key: { id: build.uploadId } }),
  );
  const upload = Item as UploadRecord | undefined;
  if (upload?.status === 'Completed' && !upload.rawDeleted) await removeRawUpload(upload, bucket);
}
