import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type Sharp from 'sharp';
import { LocalPlatform } from '../../local/local-platform';
import { apiClient } from '../helpers/api-client';
import { completedUpload, settledImage } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';
import { buildZip } from '../../packages/image-io/test/helpers/zip-builder';

// Local mode runs the converter function as deployed: its bundle leaves libvips out, so sharp
// does not load there. The converter container runs in its own process, where sharp loads.
const sharp = require('sharp') as typeof Sharp;

let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let documents: DynamoDBDocumentClient;
const alice = 'dev-alice';

beforeAll(async () => {
  platform = await startTestPlatform();
  call = apiClient(platform.urls.api);
  documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
});

afterAll(async () => {
  documents.destroy();
  await platform.stop();
});

test('pictures found inside an archive send the set from the function to the converter container', async () => {
  const png = await sharp({ create: { width: 4, height: 2, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
  const upload = await completedUpload(
    call,
    alice,
    'photos.zip',
    buildZip([{ name: 'photo.png', content: png }]),
  );
  const created = await call('POST', '/v1/images', {
    token: alice,
    body: { uploads: [upload], name: 'Photos' },
  });
  const imageId = created.body.id;

  const image = await settledImage(call, alice, imageId);
  await platform.batch.settled();

  expect(image).toMatchObject({ status: 'Succeeded', metadata: { size: [4, 2] }, errors: [] });
  const jobs = platform.batch.jobs.filter((job) => job.jobName === imageId);
  expect(jobs.map((job) => [job.jobQueue, job.status])).toEqual([['local-conversion-jobs', 'SUCCEEDED']]);
  const { Item } = await documents.send(
    new GetCommand({ TableName: platform.settings.imagesTable, Key: { id: imageId } }),
  );
  expect(Item!.converterJobId).toBe(jobs[0].jobId);
});
