import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Sharp from 'sharp';
import { main as converterContainer } from '../../containers/images/converter/entrypoint';
import { CONTAINER_QUEUED_DETAIL } from '../../lambda/images/converter-jobs';
import { converterContainer as containerDeployment } from '../../containers/images/converter/container';
import { environmentVariables } from '../../lambda/contracts/handler-environment';
import { LocalPlatform } from '../../local/local-platform';
import { apiClient } from '../helpers/api-client';
import { completedUpload as uploadThroughApi, settledImage } from '../helpers/api-flows';
import { putImageRecord } from '../helpers/image-records';
import { startTestPlatform } from '../helpers/local-platform-fixture';

const sharp = require('sharp') as typeof Sharp;

const MiB = 1024 ** 2;
let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let documents: DynamoDBDocumentClient;
let s3: S3Client;
const alice = 'dev-alice';

beforeAll(async () => {
  // The smallest bound the configuration allows, so a set just over 1 MiB goes to the container.
  platform = await startTestPlatform({}, { conversion: { lambdaMaxSetBytes: MiB } });
  call = apiClient(platform.urls.api);
  documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  s3 = new S3Client({ forcePathStyle: true });
});

afterAll(async () => {
  s3.destroy();
  documents.destroy();
  await platform.stop();
});

/** An uploaded file, completed; returns the upload id and where its raw object lives. */
async function completedUpload(filename: string, content: Buffer): Promise<{ id: string; key: string }> {
  const id = await uploadThroughApi(call, alice, filename, content);
  const { Item } = await documents.send(
    new GetCommand({ TableName: platform.settings.uploadsTable, Key: { id } }),
  );
  return { id, key: Item!.objectKey };
}

async function createImage(uploads: string[], name: string): Promise<string> {
  const created = await call('POST', '/v1/images', { token: alice, body: { uploads, name } });
  expect(created.status).toBe(201);
  return created.body.id;
}

/** The image once its conversion has ended, in the function or in the local converter container. */
async function settled(imageId: string) {
  const image = await settledImage(call, alice, imageId);
  await platform.batch.settled();
  return image;
}

const imageRecord = async (id: string) =>
  (await documents.send(new GetCommand({ TableName: platform.settings.imagesTable, Key: { id } }))).Item!;

const jobsOf = (imageId: string) => platform.batch.jobs.filter((job) => job.jobName === imageId);

/** A 2D MetaImage of `side` x `side` bytes. */
function metaImage(side: number): Buffer {
  return Buffer.concat([
    Buffer.from(
      `ObjectType = Image\nNDims = 2\nDimSize = ${side} ${side}\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n`,
    ),
    Buffer.alloc(side * side, 7),
  ]);
}

const rawObjectExists = (key: string) =>
  s3.send(new HeadObjectCommand({ Bucket: platform.settings.imagingBucket, Key: key })).then(
    () => true,
    () => false,
  );

describe('conversion in the converter container', () => {
  test('a set larger than the function takes is converted end to end by a converter job', async () => {
    const upload = await completedUpload('big.mha', metaImage(1100));
    const imageId = await createImage([upload.id], 'Large scan');
    const image = await settled(imageId);

    expect(image).toMatchObject({ status: 'Succeeded', metadata: { size: [1100, 1100] } });
    const [job, ...others] = jobsOf(imageId);
    expect(others).toEqual([]);
    expect(job).toMatchObject({
      jobQueue: 'local-conversion-jobs',
      jobDefinition: 'local-image-converter',
      parameters: { imageId },
      status: 'SUCCEEDED',
      exitCode: 0,
    });
    const record = await imageRecord(imageId);
    expect(record.converterJobId).toBe(job.jobId);
    const output = await s3.send(
      new GetObjectCommand({ Bucket: platform.settings.imagingBucket, Key: record.outputKey }),
    );
    const header = Buffer.from(await output.Body!.transformToByteArray())
      .subarray(0, 512)
      .toString('latin1');
    expect(header).toMatch(/^DimSize = 1100 1100$/m);
    expect(await rawObjectExists(upload.key)).toBe(false);
    // The job's scratch volume went with it.
    expect(fs.readdirSync(path.join(platform.dataDir, 'converter-scratch'))).toEqual([]);
  });

  test('a small set stays in the function: no converter job, and nothing left in its /tmp', async () => {
    const upload = await completedUpload('small.mha', metaImage(16));
    const imageId = await createImage([upload.id], 'Small scan');
    expect(await settled(imageId)).toMatchObject({ status: 'Succeeded', metadata: { size: [16, 16] } });
    expect(jobsOf(imageId)).toEqual([]);
    expect((await imageRecord(imageId)).converterJobId).toBeUndefined();
    // Each sandbox of the function has its own /tmp under the folder the settings name.
    const tmps = fs.readdirSync(platform.settings.conversionWorkDir);
    expect(tmps.length).toBeGreaterThan(0);
    for (const tmp of tmps) {
      const workRoot = path.join(platform.settings.conversionWorkDir, tmp, 'image-conversions');
      // A sandbox whose last message removed uploads has emptied it and made none.
      expect(fs.existsSync(workRoot) ? fs.readdirSync(workRoot) : []).toEqual([]);
    }
  });

  test('a picture, which needs libvips, goes to the converter container whatever its size', async () => {
    const png = await sharp({ create: { width: 5, height: 3, channels: 3, background: '#204060' } })
      .png()
      .toBuffer();
    const upload = await completedUpload('photo.png', png);
    const imageId = await createImage([upload.id], 'Photo');
    expect(await settled(imageId)).toMatchObject({
      status: 'Succeeded',
      metadata: { size: [5, 3], components: 3 },
    });
    expect(jobsOf(imageId).map((job) => job.status)).toEqual(['SUCCEEDED']);
  });

  test('a converter job that fails marks its image Failed with the reason, and keeps nothing else', async () => {
    const png = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000000' } })
      .png()
      .toBuffer();
    const upload = await completedUpload('lost.png', png);
    // The raw file vanishes before the converter reads it: the container cannot convert and exits 1.
    await s3.send(new DeleteObjectCommand({ Bucket: platform.settings.imagingBucket, Key: upload.key }));
    const imageId = await createImage([upload.id], 'Lost photo');
    const image = await settled(imageId);

    expect(image.status).toBe('Failed');
    expect(image.statusDetail).toBe(
      'The converter container failed: it exited with code 1; the files are kept, and the platform team has been alerted',
    );
    expect(jobsOf(imageId)).toEqual([
      expect.objectContaining({
        status: 'FAILED',
        exitCode: 1,
        statusReason: 'Essential container in task exited',
      }),
    ]);
  });
});

describe('one writer per image', () => {
  /** An image of a completed upload, Queued, put straight into the table so no queue message exists. */
  async function queuedImage(side: number, fields: Record<string, unknown> = {}): Promise<string> {
    const upload = await completedUpload('scan.mha', metaImage(side));
    return putImageRecord(documents, platform.settings.imagesTable, () => ({
      owner: platform.devUsers[0].claims.sub,
      name: 'Scan',
      files: [{ uploadId: upload.id, filename: 'scan.mha', size: side * side + 80 }],
      ...fields,
    }));
  }

  const deliver = (imageId: string) =>
    platform.functions.get('images/convert-image').invoke<SQSBatchResponse>({
      Records: [
        {
          messageId: 'message-1',
          body: JSON.stringify({ imageId }),
          attributes: { ApproximateReceiveCount: '1' },
        } as unknown as SQSEvent['Records'][number],
      ],
    });

  test('the same message delivered twice submits one converter job', async () => {
    const imageId = await queuedImage(1100);
    expect(await deliver(imageId)).toEqual({ batchItemFailures: [] });
    expect(await deliver(imageId)).toEqual({ batchItemFailures: [] });
    expect(jobsOf(imageId)).toHaveLength(1);
    expect(await settled(imageId)).toMatchObject({ status: 'Succeeded' });
    expect((await imageRecord(imageId)).converterJobId).toBe(jobsOf(imageId)[0].jobId);
  });

  test('a converter job that the image does not name leaves it alone; the named one converts it', async () => {
    const imageId = await queuedImage(1100, {
      converterJobId: 'job-named',
      statusDetail: CONTAINER_QUEUED_DETAIL,
    });
    // The container's own environment and job role, as its job definition gives them, in this process.
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'converter-scratch-'));
    const role = platform.iam.credentials.forRole(
      platform.iam.access.converter.jobRoleArn,
      'image-converter',
    );
    const containerEnvironment = {
      ...platform.environment,
      ...environmentVariables(containerDeployment, { ...platform.settings, conversionWorkDir: scratch }),
      AWS_ACCESS_KEY_ID: role.accessKeyId,
      AWS_SECRET_ACCESS_KEY: role.secretAccessKey,
    };
    const saved = { ...process.env };
    Object.assign(process.env, containerEnvironment);
    try {
      const env = { ...process.env, AWS_BATCH_JOB_ID: 'job-stray' };
      expect(await converterContainer([imageId], env)).toBe(0);
      expect(await imageRecord(imageId)).toMatchObject({ status: 'Queued', converterJobId: 'job-named' });

      expect(await converterContainer([imageId], { ...env, AWS_BATCH_JOB_ID: 'job-named' })).toBe(0);
      expect(await imageRecord(imageId)).toMatchObject({ status: 'Succeeded', converterJobId: 'job-named' });
    } finally {
      process.env = saved;
    }
  });

  test('the function leaves alone an image that names a converter job, even a small one', async () => {
    const imageId = await queuedImage(16, { converterJobId: 'job-elsewhere' });
    const before = platform.batch.jobs.length;
    expect(await deliver(imageId)).toEqual({ batchItemFailures: [] });
    expect(platform.batch.jobs.length).toBe(before);
    expect(await imageRecord(imageId)).toMatchObject({ status: 'Queued', converterJobId: 'job-elsewhere' });
  });

  test('the container refuses to start without an image id, naming what is missing', async () => {
    expect(await converterContainer(['not-an-id'], { IMAGING_BUCKET: 'b' })).toBe(2);
  });
});
