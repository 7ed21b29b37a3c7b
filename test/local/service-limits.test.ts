import {
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { marshall } from '@aws-sdk/util-dynamodb';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  itemNestingLevels,
  itemSize,
  MAX_ITEM_BYTES,
  wireItemSize,
} from '../../lambda/contracts/dynamodb-item-limits';
import { startEmbeddedDynamoDb } from '../../local/services/dynamodb';
import { RunningService } from '../../local/services/running-service';
import { S3RVER_CREDENTIALS, startEmbeddedS3 } from '../../local/services/s3';
import { freePorts } from '../helpers/free-ports';

const credentials = S3RVER_CREDENTIALS;
const region = 'eu-central-1';
const bucket = 'limits-bucket';
const table = 'local-limits';
let services: RunningService[];
let s3: S3Client;
let dynamodb: DynamoDBClient;

beforeAll(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'service-limits-'));
  const [s3Port, dynamodbPort] = await freePorts(2);
  services = [
    await startEmbeddedS3({
      dataDir,
      host: '127.0.0.1',
      port: s3Port,
      bucketName: bucket,
      webOrigins: ['http://localhost:4000'],
    }),
    await startEmbeddedDynamoDb({
      dataDir,
      host: '127.0.0.1',
      port: dynamodbPort,
      tableName: (name) => `local-${name}`,
      client: { region, credentials },
    }),
  ];
  s3 = new S3Client({
    region,
    credentials,
    endpoint: `http://127.0.0.1:${s3Port}`,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  dynamodb = new DynamoDBClient({ region, credentials, endpoint: `http://127.0.0.1:${dynamodbPort}` });
  await dynamodb.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    }),
  );
});

afterAll(async () => {
  s3.destroy();
  dynamodb.destroy();
  for (const service of services.reverse()) await service.stop();
});

describe('local S3 refuses keys as S3 does', () => {
  const put = (Key: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' }));

  test('a key of 1,024 bytes is stored; one of 1,025 bytes is KeyTooLongError', async () => {
    // Segments of 3-byte characters, 1,024 bytes in all, each within what a file name holds.
    const longest = [...Array(4).fill('€'.repeat(70)), '€'.repeat(60)].join('/');
    expect(Buffer.byteLength(longest)).toBe(1024);
    await put(longest);
    const read = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: longest }));
    expect(await read.Body!.transformToString()).toBe('x');

    const tooLong = `${longest}a`;
    await expect(put(tooLong)).rejects.toMatchObject({
      name: 'KeyTooLongError',
      message: 'Your key is too long',
    });
  });

  test('a key segment longer than a file name is refused, and the bucket still lists', async () => {
    await expect(put(`uploads/${'é'.repeat(125)}.mha`)).rejects.toMatchObject({
      name: 'KeyTooLongError',
      message: expect.stringMatching(/each segment of a key as a file name, of at most 233 bytes/),
    });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect((listed.Contents ?? []).every((object) => !object.Key!.startsWith('uploads/'))).toBe(true);
  });

  test('a multipart upload to a key with the characters XML escapes completes', async () => {
    const Key = `names/a<b>&'c".mha`;
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key }));
    const { ETag } = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key, UploadId, PartNumber: 1, Body: 'part' }),
    );
    const completed = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] },
      }),
    );
    expect(completed.Key).toBe(Key);
    const read = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
    expect(await read.Body!.transformToString()).toBe('part');
  });
});

describe('local DynamoDB measures and refuses items as DynamoDB does', () => {
  const putItem = (item: Record<string, unknown>) =>
    dynamodb.send(new PutItemCommand({ TableName: table, Item: marshall(item) }));

  test('the size of an item counts names and values in UTF-8, with the overheads AWS documents', () => {
    // AWS's own figures: a string is its UTF-8 bytes, a number a byte per two digits and one more,
    // a list or map 3 bytes and 1 per element, null and booleans 1.
    expect(itemSize({ id: 'abc' })).toBe(2 + 3);
    expect(itemSize({ name: 'é€😀' })).toBe(4 + 2 + 3 + 4);
    expect(itemSize({ n: 12345 })).toBe(1 + 1 + 3);
    expect(itemSize({ l: [true, null] })).toBe(1 + 3 + (1 + 1) + (1 + 1));
    expect(itemSize({ m: { a: 'b' } })).toBe(1 + 3 + 1 + 1 + 1);
    expect(itemSize({ skipped: undefined })).toBe(0);
    const item = { id: 'x', list: [1, 'two', { three: [3.25, -4] }], flag: false, nothing: null };
    expect(itemSize(item)).toBe(wireItemSize(JSON.parse(JSON.stringify(marshall(item)))));
  });

  test('an item of 400 KB in UTF-8 is refused even where dynalite counted fewer characters', async () => {
    const fits = { id: 'fits', text: 'é'.repeat((MAX_ITEM_BYTES - 2 - 4 - 4) / 2) };
    expect(itemSize(fits)).toBe(MAX_ITEM_BYTES);
    await putItem(fits);
    // 205,000 characters, 410,000 bytes: dynalite alone counted the characters and stored it.
    const over = { id: 'over', text: 'é'.repeat(205_000) };
    await expect(putItem(over)).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Item size has exceeded the maximum allowed size',
    });
  });

  test('an update that grows an item past 400 KB is refused', async () => {
    await putItem({ id: 'growing', text: 'é'.repeat(150_000) });
    await expect(
      dynamodb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { id: { S: 'growing' } },
          UpdateExpression: 'SET more = :more',
          ExpressionAttributeValues: { ':more': { S: '€'.repeat(40_000) } },
        }),
      ),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Item size to update has exceeded the maximum allowed size',
    });
  });

  test('32 levels of nesting are stored; 33 are refused, by PutItem and by UpdateItem', async () => {
    const nested = (levels: number): unknown => (levels === 1 ? 'leaf' : { in: nested(levels - 1) });
    expect(itemNestingLevels({ deep: nested(32) })).toBe(32);
    await putItem({ id: 'deep', deep: nested(32) });
    const refusal = {
      name: 'ValidationException',
      message: expect.stringMatching(/^Nesting Levels have exceeded supported limits/),
    };
    await expect(putItem({ id: 'deeper', deep: nested(33) })).rejects.toMatchObject(refusal);
    await expect(
      dynamodb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { id: { S: 'deep' } },
          UpdateExpression: 'SET deeper = :deeper',
          ExpressionAttributeValues: marshall({ ':deeper': nested(33) }),
        }),
      ),
    ).rejects.toMatchObject(refusal);
  });
});
