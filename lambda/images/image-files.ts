import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { itemSize } from '../contracts/dynamodb-item-limits';
import { tableName } from '../contracts/tables';
import { dynamoDb } from '../core/aws-clients';
import { ImageRecord } from './image-record';

/** One file of an image: the upload it came from, as the user named it. */
export interface ImageFile {
  readonly uploadId: string;
  readonly filename: string;
  readonly size: number;
}

/**
 * Bytes of files one page holds, well under DynamoDB's 400 KB: 10,000 files of typical DICOM names
 * take 3 or 4 pages, and a page of 255-character names still fits.
 */
const PAGE_BYTES = 256 * 1024;
/** BatchWriteItem takes at most 25 items a call. */
const BATCH_WRITE_ITEMS = 25;

/** The files of `imageId` cut into pages, in order, each under `PAGE_BYTES`. */
export function filePages(imageId: string, files: readonly ImageFile[]) {
  const pages: { imageId: string; page: string; files: ImageFile[] }[] = [];
  let current: ImageFile[] = [];
  let bytes = 0;
  for (const file of files) {
    const size = itemSize({ file });
    if (current.length > 0 && bytes + size > PAGE_BYTES) {
      pages.push({ imageId, page: pageKey(pages.length), files: current });
      current = [];
      bytes = 0;
    }
    current.push(file);
    bytes += size;
  }
  if (current.length > 0) pages.push({ imageId, page: pageKey(pages.length), files: current });
  return pages;
}

function pageKey(n: number): string {
  return String(n).padStart(5, '0');
}

/**
 * Stores the file list of a new image. BatchWriteItem is not conditional, which fits: the image id
 * is fresh, so no page can exist yet. Items DynamoDB leaves unprocessed are sent again.
 */
export async function putImageFiles(imageId: string, files: readonly ImageFile[]): Promise<number> {
  const pages = filePages(imageId, files);
  for (let i = 0; i < pages.length; i += BATCH_WRITE_ITEMS) {
    await writeAll(pages.slice(i, i + BATCH_WRITE_ITEMS).map((Item) => ({ PutRequest: { Item } })));
  }
  return pages.length;
}

/** Removes the file list of an image that was never queued, when its creation is undone. */
export async function deleteImageFiles(imageId: string, pageCount: number): Promise<void> {
  const keys = Array.from({ length: pageCount }, (_, n) => ({ imageId, page: pageKey(n) }));
  for (let i = 0; i < keys.length; i += BATCH_WRITE_ITEMS) {
    await writeAll(keys.slice(i, i + BATCH_WRITE_ITEMS).map((Key) => ({ DeleteRequest: { Key } })));
  }
}

type WriteRequest =
  { PutRequest: { Item: Record<string, unknown> } } | { DeleteRequest: { Key: Record<string, unknown> } };

async function writeAll(requests: WriteRequest[]): Promise<void> {
  let pending = requests;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
    if (attempt > 8)
      throw new Error(`DynamoDB left ${pending.length} image file pages unwritten after ${attempt} tries`);
    const { UnprocessedItems } = await dynamoDb().send(
      new BatchWriteCommand({ RequestItems: { [tableName('imageFiles')]: pending } }),
    );
    pending = (UnprocessedItems?.[tableName('imageFiles')] ?? []) as WriteRequest[];
  }
}

/**
 * The files of an image, in the order they were given: from its pages (a sibling reads those of
 * the image it was converted with), or from the record itself for images stored before pages.
 */
export async function readImageFiles(
  record: Pick<ImageRecord, 'id' | 'files' | 'fileCount' | 'filesOf'>,
): Promise<ImageFile[]> {
  if (record.files) return [...record.files];
  if (!record.fileCount) return [];
  const files: ImageFile[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamoDb().send(
      new QueryCommand({
        TableName: tableName('imageFiles'),
        KeyConditionExpression: 'imageId = :id',
        ExpressionAttributeValues: { ':id': record.filesOf ?? record.id },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) files.push(...(item.files as ImageFile[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return files;
}
