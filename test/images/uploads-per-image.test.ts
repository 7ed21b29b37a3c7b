import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { dicomSlice } from '../../packages/image-io/test/helpers/dicom-files';
import { ApiError } from '../../lambda/api/api-error';
import { putImageFiles } from '../../lambda/images/image-files';
import { claimUploadsForImage } from '../../lambda/images/upload-claims';
import { removeConvertedUploads } from '../../lambda/images/upload-removal';
import { LocalPlatform } from '../../local/local-platform';
import { apiClient, INVALID_BODY, UNCHECKED_BODY } from '../helpers/api-client';
import { completedUpload, settledImage } from '../helpers/api-flows';
import { putImageRecord } from '../helpers/image-records';
import { startTestPlatform } from '../helpers/local-platform-fixture';

const alice = 'dev-alice';
/** The limit this platform is configured with: the series below is exactly that long. */
const UPLOADS_PER_IMAGE = 2000;
const SERIES_UID = '1.2.826.0.1.3680043.8.498.4242';
const ORIGIN = [-120.5, 80.25, -400];
/** Slice spacing; PixelSpacing is rows (y) then columns (x). */
const STEP = 0.625;
const PIXEL_SPACING = [0.7, 0.45];

let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let documents: DynamoDBDocumentClient;
let s3: S3Client;
/** The series' uploads, by slice position. */
let series: string[];

/** Slice `k` of a 3 x 4 CT series, a long name as scanners write them. */
function slice(k: number): { filename: string; content: Buffer } {
  return {
    filename: `${SERIES_UID}.${String(k).padStart(5, '0')}-${'x'.repeat(60)}.dcm`,
    content: dicomSlice({
      seriesUid: SERIES_UID,
      rows: 4,
      columns: 3,
      position: [ORIGIN[0], ORIGIN[1], ORIGIN[2] + k * STEP],
      orientation: [1, 0, 0, 0, 1, 0],
      pixelSpacing: PIXEL_SPACING,
      pixels: Int16Array.from({ length: 12 }, (_, i) => (i + k) % 100),
      // Against the geometry, so that the order must come from the positions.
      instance: UPLOADS_PER_IMAGE - k,
    }),
  };
}

/** Runs `work` on each item with `concurrency` under way. */
async function inParallel<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
) {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i], i);
      }
    }),
  );
  return results;
}

async function usage(): Promise<number> {
  const { Item } = await documents.send(
    new GetCommand({
      TableName: platform.settings.usageTable,
      Key: { userId: platform.devUsers[0].claims.sub },
    }),
  );
  return (Item?.uploadBytes as number | undefined) ?? 0;
}

/** The uploads of `ids` that some image claims. */
async function claimed(ids: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (let i = 0; i < ids.length; i += 100) {
    const { Responses } = await documents.send(
      new BatchGetCommand({
        RequestItems: {
          [platform.settings.uploadsTable]: { Keys: ids.slice(i, i + 100).map((id) => ({ id })) },
        },
      }),
    );
    for (const item of Responses?.[platform.settings.uploadsTable] ?? []) {
      if (item.imageId) found.push(item.id as string);
    }
  }
  return found;
}

/** The image once converted or failed; a set of 2,000 takes a while on a busy machine. */
async function endedImage(imageId: string) {
  const deadline = Date.now() + 240_000;
  for (;;) {
    const read = await call('GET', '/v1/images/{imageId}', { token: alice, params: { imageId } });
    if (read.body.status === 'Succeeded' || read.body.status === 'Failed') return read.body;
    if (Date.now() > deadline) throw new Error(`image ${imageId} was not converted in time`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const rawObjectExists = (uploadId: string) =>
  s3
    .send(
      new HeadObjectCommand({
        Bucket: platform.settings.imagingBucket,
        Key: `uploads/${platform.devUsers[0].claims.sub}/${uploadId}`,
      }),
    )
    .then(
      () => true,
      () => false,
    );

/**
 * Alice's Completed uploads of `files`, as the upload API leaves them (the object, the record,
 * the bytes in her quota), written straight into the stores: 2,000 uploads through the local API
 * take minutes on two cores (the bench measures that path).
 */
async function storedUploads(files: readonly { filename: string; content: Buffer }[]): Promise<string[]> {
  const owner = platform.devUsers[0].claims.sub;
  const now = new Date().toISOString();
  const records = files.map(({ filename, content }) => {
    const id = randomUUID();
    return {
      id,
      owner,
      filename,
      size: content.length,
      partSize: 32 * 1024 ** 2,
      partCount: 1,
      objectKey: `uploads/${owner}/${id}`,
      s3UploadId: `stored-${id}`,
      status: 'Completed',
      createdAt: now,
      completedAt: now,
    };
  });
  await inParallel(records, 16, (record, i) =>
    s3.send(
      new PutObjectCommand({
        Bucket: platform.settings.imagingBucket,
        Key: record.objectKey,
        Body: files[i].content,
        Metadata: { 'upload-id': record.id },
      }),
    ),
  );
  for (let i = 0; i < records.length; i += 25) {
    await documents.send(
      new BatchWriteCommand({
        RequestItems: {
          [platform.settings.uploadsTable]: records
            .slice(i, i + 25)
            .map((Item) => ({ PutRequest: { Item } })),
        },
      }),
    );
  }
  await documents.send(
    new UpdateCommand({
      TableName: platform.settings.usageTable,
      Key: { userId: owner },
      UpdateExpression: 'ADD uploadBytes :bytes',
      ExpressionAttributeValues: { ':bytes': records.reduce((sum, r) => sum + r.size, 0) },
    }),
  );
  return records.map((r) => r.id);
}

beforeAll(async () => {
  platform = await startTestPlatform({ uploadsPerImage: UPLOADS_PER_IMAGE });
  call = apiClient(platform.urls.api);
  documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  s3 = new S3Client({ forcePathStyle: true });
  series = await storedUploads(Array.from({ length: UPLOADS_PER_IMAGE }, (_, k) => slice(k)));
}, 120_000);

afterAll(async () => {
  documents?.destroy();
  s3?.destroy();
  await platform?.stop();
});

describe('an image of thousands of uploads', () => {
  test('one upload past the configured limit is refused naming the limit, before any upload is claimed', async () => {
    const response = await call('POST', '/v1/images', {
      token: alice,
      body: { uploads: [...series, randomUUID()] },
    });
    expect(response).toEqual({
      status: 400,
      body: {
        error: {
          code: 'BadRequest',
          message: `an image is made of at most ${UPLOADS_PER_IMAGE} uploads; this request names ${UPLOADS_PER_IMAGE + 1}`,
        },
      },
    });
    expect(await claimed(series)).toEqual([]);
  });

  test("past the platform's ceiling of 10,000, API Gateway refuses the body, and the handler names the limit", async () => {
    const body = { uploads: Array.from({ length: 10_001 }, () => randomUUID()) };
    expect(await call('POST', '/v1/images', { token: alice, body })).toEqual(INVALID_BODY);
    const response = await call('POST', '/v1/images', { token: alice, body, ...UNCHECKED_BODY });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toBe('body.uploads must NOT have more than 10000 items');
  });

  test('a refusal in the middle of hundreds of claims under way gives every claim back', async () => {
    const pending = await call('POST', '/v1/uploads', {
      token: alice,
      body: { filename: 'p.dcm', size: 10 },
    });
    const uploads = [...series.slice(0, 300), pending.body.id, ...series.slice(300, 600)];
    const refused = await call('POST', '/v1/images', { token: alice, body: { uploads } });
    expect(refused).toMatchObject({
      status: 409,
      body: {
        error: { message: `upload ${pending.body.id} is Pending; only Completed uploads become images` },
      },
    });
    expect(await claimed(series)).toEqual([]);
  });

  test('claims that pass their time are all given back, and the answer says to try again', async () => {
    // As the handler runs them, with the table's name as its environment gives it.
    process.env.UPLOADS_TABLE = platform.settings.uploadsTable;
    const failure = await claimUploadsForImage(
      series.slice(0, 400),
      platform.devUsers[0].claims.sub,
      randomUUID(),
      5,
    ).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure).toMatchObject({
      status: 503,
      message: 'claiming 400 uploads took longer than 0.005 s; none was kept: try again',
    });
    expect(await claimed(series)).toEqual([]);
  });

  test('a 2,000-file series becomes one image: one volume with the geometry of its slices, its files listed in order', async () => {
    const usageBefore = await usage();
    // A 503 says the claims took longer than the API allows and none was kept: a client tries again.
    let created = await call('POST', '/v1/images', { token: alice, body: { uploads: series } });
    for (let retry = 0; retry < 3 && created.status === 503; retry++) {
      expect(await claimed(series)).toEqual([]);
      created = await call('POST', '/v1/images', { token: alice, body: { uploads: series } });
    }
    expect(created.status).toBe(201);
    expect(created.body.files).toHaveLength(UPLOADS_PER_IMAGE);
    expect(created.body.files[1234]).toMatchObject({
      uploadId: series[1234],
      filename: slice(1234).filename,
    });

    const image = await endedImage(created.body.id);
    expect(image).toMatchObject({ status: 'Succeeded', errors: [] });
    expect(image.siblings).toBeUndefined();
    expect(image.metadata).toMatchObject({
      size: [3, 4, UPLOADS_PER_IMAGE],
      componentType: 'int16',
    });
    const { spacing, origin } = image.metadata as { spacing: number[]; origin: number[] };
    [PIXEL_SPACING[1], PIXEL_SPACING[0], STEP].forEach((s, d) => expect(spacing[d]).toBeCloseTo(s, 6));
    ORIGIN.forEach((o, d) => expect(origin[d]).toBeCloseTo(o, 6));
    expect(image.files.map((f: { uploadId: string }) => f.uploadId)).toEqual(series);
    // The list is longer than one item holds comfortably: it is kept in pages.
    const { Items: pages = [] } = await documents.send(
      new QueryCommand({
        TableName: platform.settings.imageFilesTable,
        KeyConditionExpression: 'imageId = :id',
        ExpressionAttributeValues: { ':id': image.id },
      }),
    );
    expect(pages.length).toBeGreaterThan(1);

    // The removal of the raw files follows as its own message: all of them go, their bytes counted back once.
    const bytes = image.files.reduce((sum: number, f: { size: number }) => sum + f.size, 0);
    for (
      const deadline = Date.now() + 120_000;
      (await usage()) !== usageBefore - bytes && Date.now() < deadline;
    ) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(await usage()).toBe(usageBefore - bytes);
    expect(await rawObjectExists(series[0])).toBe(false);
    expect(await rawObjectExists(series[UPLOADS_PER_IMAGE - 1])).toBe(false);
  }, 300_000);
});

describe('claims of requests that ended before giving them back', () => {
  test('a claim whose image was never made is taken over once older than any request lives, not before', async () => {
    const [abandoned, recent] = await storedUploads([slice(0), slice(1)]);
    const claim = (id: string, ageMs: number) =>
      documents.send(
        new UpdateCommand({
          TableName: platform.settings.uploadsTable,
          Key: { id },
          UpdateExpression: 'SET imageId = :image, claimedAt = :at',
          ExpressionAttributeValues: {
            ':image': randomUUID(),
            ':at': new Date(Date.now() - ageMs).toISOString(),
          },
        }),
      );
    await claim(abandoned, 5 * 60_000);
    await claim(recent, 1000);

    const refused = await call('POST', '/v1/images', { token: alice, body: { uploads: [recent] } });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toBe(
      `upload ${recent} is being claimed by another request; try again in a minute`,
    );
    const created = await call('POST', '/v1/images', { token: alice, body: { uploads: [abandoned] } });
    expect(created.status).toBe(201);
    const { Item } = await documents.send(
      new GetCommand({ TableName: platform.settings.uploadsTable, Key: { id: abandoned } }),
    );
    expect(Item!.imageId).toBe(created.body.id);
    // Converted, and its uploads removed, before the queue is handed over below.
    expect((await endedImage(created.body.id)).status).toBe('Succeeded');
    for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
      const { Item: image } = await documents.send(
        new GetCommand({ TableName: platform.settings.imagesTable, Key: { id: created.body.id } }),
      );
      if (image?.uploadsRemovedAt) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }, 120_000);
});

describe('removing converted uploads', () => {
  /** A converted image of `count` files whose raw objects are gone already, with their bytes counted. */
  async function convertedImage(count: number) {
    const files = Array.from({ length: count }, (_, k) => ({
      uploadId: randomUUID(),
      filename: `${k}.dcm`,
      size: 100 + k,
    }));
    const id = await putImageRecord(documents, platform.settings.imagesTable, () => ({
      owner: platform.devUsers[0].claims.sub,
      status: 'Succeeded',
      statusDetail: 'Converted',
      fileCount: files.length,
    }));
    await putImageFiles(id, files);
    return { id, bytes: files.reduce((sum, f) => sum + f.size, 0) };
  }

  // The handlers' code runs here as the converter runs it, with the names its environment gives it.
  beforeAll(() => {
    process.env.IMAGES_TABLE = platform.settings.imagesTable;
    process.env.IMAGE_FILES_TABLE = platform.settings.imageFilesTable;
    process.env.USAGE_TABLE = platform.settings.usageTable;
  });
  const removal = (imageId: string) => removeConvertedUploads(imageId, platform.settings.imagingBucket);

  const imageItem = async (id: string) =>
    (await documents.send(new GetCommand({ TableName: platform.settings.imagesTable, Key: { id } }))).Item!;

  test('three removals of 2,500 uploads side by side give each batch of 1,000 back once, with one write per batch', async () => {
    const image = await convertedImage(2500);
    const before = await usage();
    const removed = await Promise.all([removal(image.id), removal(image.id), removal(image.id)]);
    expect(removed.reduce((sum, n) => sum + n, 0)).toBe(2500);
    expect(await usage()).toBe(before - image.bytes);
    expect((await imageItem(image.id)).removedUploadBatches).toEqual(new Set([0, 1, 2]));
    expect(await removal(image.id)).toBe(0);
    expect(await usage()).toBe(before - image.bytes);
  });

  test('a removal that cannot give the bytes back takes its mark back, so the next one gives them', async () => {
    const image = await convertedImage(1200);
    const owner = platform.devUsers[0].claims.sub;
    const before = await usage();
    // A counter DynamoDB cannot add to: the quota write fails after the first batch was marked.
    await documents.send(
      new UpdateCommand({
        TableName: platform.settings.usageTable,
        Key: { userId: owner },
        UpdateExpression: 'SET uploadBytes = :text',
        ExpressionAttributeValues: { ':text': 'not a number' },
      }),
    );
    const failure = await removal(image.id).catch((err: Error) => err);
    expect(failure).toBeInstanceOf(Error);
    const left = await imageItem(image.id);
    expect(left.removedUploadBatches).toBeUndefined();
    expect(left.uploadsRemovedAt).toBeUndefined();

    await documents.send(
      new UpdateCommand({
        TableName: platform.settings.usageTable,
        Key: { userId: owner },
        UpdateExpression: 'SET uploadBytes = :bytes',
        ExpressionAttributeValues: { ':bytes': before },
      }),
    );
    expect(await removal(image.id)).toBe(1200);
    expect(await usage()).toBe(before - image.bytes);
  });

  const sqs = () => new SQSClient({});

  /** The next message of the conversion queue, as the converter's event source receives it. */
  async function nextMessage(client: SQSClient) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: platform.settings.conversionQueueUrl,
        MaxNumberOfMessages: 1,
        WaitTimeSeconds: 1,
      }),
    );
    expect(Messages).toHaveLength(1);
    return Messages[0];
  }

  type Message = { MessageId?: string; Body?: string; ReceiptHandle?: string };

  /** Hands one message to the converter function, as its event source does. */
  async function invoke(message: Message) {
    const response = await platform.functions.get('images/convert-image').invoke<SQSBatchResponse>({
      Records: [
        {
          messageId: message.MessageId!,
          body: message.Body!,
          attributes: { ApproximateReceiveCount: '1' },
        } as unknown as SQSEvent['Records'][number],
      ],
    });
    expect(response).toEqual({ batchItemFailures: [] });
  }

  /** Delivers every message the queue holds now, in its order. */
  async function drainQueue(client: SQSClient) {
    for (;;) {
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: platform.settings.conversionQueueUrl,
          MaxNumberOfMessages: 1,
          WaitTimeSeconds: 1,
        }),
      );
      if (Messages.length === 0) return;
      await deliver(client, Messages[0]);
    }
  }

  /** As `invoke`, then deletes the message, as the event source does when the function succeeded. */
  async function deliver(client: SQSClient, message: Message) {
    await invoke(message);
    await client.send(
      new DeleteMessageCommand({
        QueueUrl: platform.settings.conversionQueueUrl,
        ReceiptHandle: message.ReceiptHandle!,
      }),
    );
  }

  test('a second image queued right after the first converts before the first one’s uploads are removed, and a removal delivered twice is harmless', async () => {
    // The queue's consumer is held, so that the test hands each message over in the queue's order.
    await platform.functions.stopTriggers();
    const client = sqs();
    try {
      // Work an earlier test left queued goes first, so that the queue holds this test's alone.
      await drainQueue(client);
      const first = await inParallel([0, 1, 2], 3, (k) =>
        completedUpload(call, alice, `a-${k}.dcm`, slice(k).content),
      );
      const second = [await completedUpload(call, alice, 'b.dcm', slice(0).content)];
      const usageBefore = await usage();
      const a = await call('POST', '/v1/images', { token: alice, body: { uploads: first } });
      const b = await call('POST', '/v1/images', { token: alice, body: { uploads: second } });

      const firstConversion = await nextMessage(client);
      expect(JSON.parse(firstConversion.Body!)).toEqual({ imageId: a.body.id });
      await deliver(client, firstConversion);
      // The first image is converted and its message released, its uploads still there.
      expect((await settledImage(call, alice, a.body.id)).status).toBe('Succeeded');
      expect(await Promise.all(first.map(rawObjectExists))).toEqual([true, true, true]);

      // Next in the queue is the second image, not the first one's removal.
      const secondConversion = await nextMessage(client);
      expect(JSON.parse(secondConversion.Body!)).toEqual({ imageId: b.body.id });
      await deliver(client, secondConversion);
      expect((await settledImage(call, alice, b.body.id)).status).toBe('Succeeded');
      expect(await Promise.all(first.map(rawObjectExists))).toEqual([true, true, true]);
      expect(await usage()).toBe(usageBefore);

      const removal = await nextMessage(client);
      expect(JSON.parse(removal.Body!)).toEqual({ imageId: a.body.id, removeUploads: true });
      await deliver(client, removal);
      const firstBytes = [0, 1, 2].reduce((sum, k) => sum + slice(k).content.length, 0);
      expect(await Promise.all(first.map(rawObjectExists))).toEqual([false, false, false]);
      expect(await usage()).toBe(usageBefore - firstBytes);

      // SQS delivers at least once: the same removal again deletes nothing more and gives back nothing twice.
      await invoke(removal);
      expect(await usage()).toBe(usageBefore - firstBytes);
      const secondRemoval = await nextMessage(client);
      expect(JSON.parse(secondRemoval.Body!)).toEqual({ imageId: b.body.id, removeUploads: true });
    } finally {
      client.destroy();
    }
  });
});
