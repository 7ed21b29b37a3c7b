import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { FunctionError } from '../../local/functions/local-function';
import { LocalPlatform } from '../../local/local-platform';
import { CHAOS_DELIVERY } from '../../local/services/delivery';
import { apiClient } from '../helpers/api-client';
import { completedUpload, settledImage } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';

const alice = 'dev-alice';

/** A 2D MetaImage of `side` x `side` bytes. */
function metaImage(side: number): Buffer {
  return Buffer.concat([
    Buffer.from(
      `ObjectType = Image\nNDims = 2\nDimSize = ${side} ${side}\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n`,
    ),
    Buffer.alloc(side * side, 7),
  ]);
}

function clientsOf(platform: LocalPlatform) {
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: platform.urls.dynamodb }));
  const s3 = new S3Client({ forcePathStyle: true, endpoint: platform.urls.s3 });
  const call = apiClient(platform.urls.api);
  const imageRecord = async (id: string) =>
    (await documents.send(new GetCommand({ TableName: platform.settings.imagesTable, Key: { id } }))).Item;
  const usage = async () =>
    ((
      await documents.send(
        new GetCommand({
          TableName: platform.settings.usageTable,
          Key: { userId: platform.devUsers[0].claims.sub },
        }),
      )
    ).Item?.uploadBytes as number | undefined) ?? 0;
  const rawObjectExists = (key: string) =>
    s3.send(new HeadObjectCommand({ Bucket: platform.settings.imagingBucket, Key: key })).then(
      () => true,
      () => false,
    );
  return { documents, s3, call, imageRecord, usage, rawObjectExists };
}

describe('deliveries of one conversion message that overlap', () => {
  let platform: LocalPlatform;
  let c: ReturnType<typeof clientsOf>;

  beforeAll(async () => {
    platform = await startTestPlatform();
    c = clientsOf(platform);
  });

  afterAll(async () => {
    c.documents.destroy();
    c.s3.destroy();
    await platform.stop();
  });

  /**
   * Alice's image of `sides.length` uploaded MetaImages, Queued, with no queue message: the tests
   * deliver it. Its files are on its record, as images were stored before their files had pages.
   */
  async function queuedImage(sides: number[]) {
    const uploads: { id: string; key: string; filename: string; size: number }[] = [];
    for (const [i, side] of sides.entries()) {
      const content = metaImage(side);
      const filename = `part-${i}.mha`;
      const id = await completedUpload(c.call, alice, filename, content);
      const { Item } = await c.documents.send(
        new GetCommand({ TableName: platform.settings.uploadsTable, Key: { id } }),
      );
      uploads.push({ id, key: Item!.objectKey, filename, size: content.length });
    }
    const id = randomUUID();
    const now = new Date().toISOString();
    // Claimed by the image, as POST /v1/images claims them.
    for (const upload of uploads) {
      await c.documents.send(
        new UpdateCommand({
          TableName: platform.settings.uploadsTable,
          Key: { id: upload.id },
          UpdateExpression: 'SET imageId = :id',
          ExpressionAttributeValues: { ':id': id },
        }),
      );
    }
    await c.documents.send(
      new PutCommand({
        TableName: platform.settings.imagesTable,
        Item: {
          id,
          owner: platform.devUsers[0].claims.sub,
          name: 'Set',
          status: 'Queued',
          statusDetail: 'Waiting for the converter to pick up the image',
          files: uploads.map(({ id: uploadId, filename, size }) => ({ uploadId, filename, size })),
          errors: [],
          metadata: {},
          createdAt: now,
          updatedAt: now,
        },
      }),
    );
    return { id, uploads };
  }

  /** The conversion function given the message of `imageId`, as a delivery of its queue. */
  const deliver = (imageId: string, receiveCount = 1) =>
    platform.functions.get('images/convert-image').invoke<SQSBatchResponse>({
      Records: [
        {
          messageId: 'message-1',
          body: JSON.stringify({ imageId }),
          attributes: { ApproximateReceiveCount: String(receiveCount) },
        } as unknown as SQSEvent['Records'][number],
      ],
    });

  /** The next delivery is held just before its conditional write that ends the image. */
  const holdBeforeEnding = () =>
    platform.functions.get('images/convert-image').injectFault({
      host: new URL(platform.urls.dynamodb).host,
      target: 'DynamoDB_20120810.UpdateItem',
      // The first UpdateItem claims the image; the second ends it.
      occurrence: 2,
      action: 'hold',
    });

  /** The image once the removal of its raw uploads, a queue message of its own, has run. */
  async function uploadsRemoved(imageId: string) {
    for (let attempt = 0; attempt < 400; attempt++) {
      const record = await c.imageRecord(imageId);
      if (record?.uploadsRemovedAt) return record;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`the uploads of image ${imageId} were not removed in time`);
  }

  /** Image records whose siblings name `imageId`. */
  async function siblingsOf(imageId: string) {
    const { Items = [] } = await c.documents.send(
      new ScanCommand({ TableName: platform.settings.imagesTable }),
    );
    return Items.filter((item) =>
      (item.siblings as { id: string }[] | undefined)?.some((s) => s.id === imageId),
    );
  }

  test('two deliveries converting at once leave one result, and the raw uploads are removed and counted back once', async () => {
    const { id, uploads } = await queuedImage([4, 5]);
    const usageBefore = await c.usage();
    const held = holdBeforeEnding();
    const first = deliver(id);
    await held.struck;

    // The message came back while the first delivery still converts: the second converts it too.
    expect(await deliver(id, 2)).toEqual({ batchItemFailures: [] });
    const converted = await c.imageRecord(id);
    expect(converted).toMatchObject({ status: 'Succeeded', statusDetail: 'Converted' });
    held.release();
    expect(await first).toEqual({ batchItemFailures: [] });

    const { uploadsRemovedAt, removedUploadBatches, ...ended } = await uploadsRemoved(id);
    expect(ended).toEqual(converted);
    expect(removedUploadBatches).toEqual(new Set([0]));
    expect(Date.parse(uploadsRemovedAt)).toBeGreaterThanOrEqual(Date.parse(converted!.updatedAt));
    const siblings = await siblingsOf(id);
    expect(siblings.map((s) => s.id)).toEqual(converted!.siblings.map((s: { id: string }) => s.id));
    expect(siblings[0]).toMatchObject({ status: 'Succeeded' });
    for (const upload of uploads) expect(await c.rawObjectExists(upload.key)).toBe(false);
    expect(await c.usage()).toBe(usageBefore - uploads.reduce((sum, u) => sum + u.size, 0));
  });

  test('an image that the dead-letter queue fails while a delivery still converts it keeps its raw uploads and gets no sibling images', async () => {
    const { id, uploads } = await queuedImage([4, 5]);
    const usageBefore = await c.usage();
    const held = holdBeforeEnding();
    const converting = deliver(id);
    await held.struck;

    // Every receive seemed to fail (the others timed out, say): the dead-letter queue's handler fails the image.
    await platform.functions
      .get('images/fail-unconverted-image')
      .invoke({ Records: [{ messageId: 'dead-1', body: JSON.stringify({ imageId: id }) }] });
    held.release();
    expect(await converting).toEqual({ batchItemFailures: [] });

    expect(await c.imageRecord(id)).toMatchObject({
      status: 'Failed',
      statusDetail:
        'Conversion failed on every try; the files are kept, and the platform team has been alerted',
    });
    expect(await siblingsOf(id)).toEqual([]);
    for (const upload of uploads) expect(await c.rawObjectExists(upload.key)).toBe(true);
    expect(await c.usage()).toBe(usageBefore);
  });

  test('a delivery whose sandbox dies after claiming the image leaves it to the next delivery, which converts it', async () => {
    const { id, uploads } = await queuedImage([6]);
    const fault = platform.functions
      .get('images/convert-image')
      .injectFault({ host: new URL(platform.urls.s3).host, action: 'exit' });
    const failure = await deliver(id).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(FunctionError);
    expect((failure as FunctionError).name).toBe('Runtime.ExitError');
    await fault.struck;
    expect(await c.imageRecord(id)).toMatchObject({ status: 'Started', statusDetail: 'Converting' });

    expect(await deliver(id, 2)).toEqual({ batchItemFailures: [] });
    expect(await c.imageRecord(id)).toMatchObject({ status: 'Succeeded', metadata: { size: [6, 6] } });
    await uploadsRemoved(id);
    expect(await c.rawObjectExists(uploads[0].key)).toBe(false);
  });

  test('a delivery after the image ended and its uploads went changes nothing', async () => {
    const { id } = await queuedImage([3]);
    expect(await deliver(id)).toEqual({ batchItemFailures: [] });
    const converted = await uploadsRemoved(id);
    const usage = await c.usage();
    expect(await deliver(id, 2)).toEqual({ batchItemFailures: [] });
    expect(await c.imageRecord(id)).toEqual(converted);
    expect(await c.usage()).toBe(usage);
  });
});

describe('conversion through a queue that duplicates and reorders', () => {
  let platform: LocalPlatform;
  let c: ReturnType<typeof clientsOf>;

  beforeAll(async () => {
    platform = await startTestPlatform({}, { delivery: { seed: 42, ...CHAOS_DELIVERY } });
    c = clientsOf(platform);
  });

  afterAll(async () => {
    c.documents.destroy();
    c.s3.destroy();
    await platform.stop();
  });

  test('every image of a burst is converted once: one record each, raw uploads removed, the quota given back', async () => {
    const usageBefore = await c.usage();
    const uploads = await Promise.all(
      [3, 4, 5, 6, 7, 8].map((side) => completedUpload(c.call, alice, `scan-${side}.mha`, metaImage(side))),
    );
    const images = await Promise.all(
      uploads.map(
        async (upload) =>
          (await c.call('POST', '/v1/images', { token: alice, body: { uploads: [upload] } })).body
            .id as string,
      ),
    );
    const settled = await Promise.all(images.map((id) => settledImage(c.call, alice, id)));
    expect(settled.map((image) => [image.status, image.metadata.size])).toEqual(
      [3, 4, 5, 6, 7, 8].map((side) => ['Succeeded', [side, side]]),
    );
    const { Items = [] } = await c.documents.send(
      new ScanCommand({ TableName: platform.settings.imagesTable }),
    );
    expect(Items.map((item) => item.id).sort()).toEqual([...images].sort());
    // Each conversion gives the quota back after its image ended.
    for (let i = 0; i < 200 && (await c.usage()) !== usageBefore; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await c.usage()).toBe(usageBefore);
  });
});
