import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { main } from '../../containers/jobs/input-stager/entrypoint';
import { jobInputKey, jobManifestKey } from '../../lambda/contracts/bucket-layout';
import { ManifestInput } from '../../lambda/jobs/job-manifest';
import { EmbeddedS3, startS3 } from '../helpers/embedded-s3';

const BUCKET = 'staging';
const MiB = 1024 ** 2;
/** S3's smallest part, set as the configuration would: inputs of tens of MiB are copied in parts. */
const PART = 5 * MiB;

let local: EmbeddedS3;
let s3: S3Client;

beforeAll(async () => {
  local = await startS3(BUCKET);
  ({ s3 } = local);
});

afterAll(() => local.stop());

/** The environment the job definition gives the stager. */
const environment = {
  IMAGING_BUCKET: BUCKET,
  COPY_PART_BYTES: String(PART),
  BUSINESS_METRIC_NAMESPACE: 'Platform',
};
const stage = (jobId: string) => main([jobId], environment, s3);
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

const stored = (key: string) => local.stored(key);

/** An image's file as the converter stores it, and the manifest input submit-job pins to it. */
async function imageInput(jobId: string, body: Buffer): Promise<ManifestInput> {
  const key = `images/${randomUUID()}/ct.mha`;
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  return {
    socket: { slug: 'ct-image', kind: 'image', relativePath: 'images/ct' },
    path: 'images/ct/ct.mha',
    key: jobInputKey(jobId, 0),
    source: { key, bytes: body.length, etag: head.ETag! },
  };
}

async function writeManifest(jobId: string, inputs: ManifestInput[]): Promise<void> {
  const manifest = { jobId, interface: { inputs: inputs.map((i) => i.socket), outputs: [] }, inputs };
  await s3.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: jobManifestKey(jobId), Body: JSON.stringify(manifest) }),
  );
}

test('an input larger than one part is copied in parts of the configured size, byte for byte', async () => {
  const jobId = randomUUID();
  const body = randomBytes(2 * PART + MiB);
  const input = await imageInput(jobId, body);
  const value: ManifestInput = {
    socket: { slug: 'threshold', kind: 'json', relativePath: 'threshold.json' },
    path: 'threshold.json',
    value: 0.5,
  };
  await writeManifest(jobId, [input, value]);

  expect(await stage(jobId)).toBe(0);
  const copy = await stored(input.key!);
  expect(copy && sha256(copy)).toBe(sha256(body));
  // Three parts: S3 would have refused the one CopyObject of an object over 5 GiB.
  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: input.key! }));
  expect(head.ETag).toMatch(/-3"$/);
});

test('a manifest that copies from outside images and uploads, or outside the job, fails and writes nothing', async () => {
  const jobId = randomUUID();
  const input = await imageInput(jobId, Buffer.from('ct'));
  const manifestKey = jobManifestKey(randomUUID());
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: manifestKey, Body: 'another job' }));

  await writeManifest(jobId, [{ ...input, source: { ...input.source!, key: manifestKey } }]);
  expect(await stage(jobId)).toBe(1);
  await writeManifest(jobId, [{ ...input, key: `jobs/${randomUUID()}/inputs/images/ct/ct.mha` }]);
  expect(await stage(jobId)).toBe(1);
  expect(await stored(input.key!)).toBeUndefined();
});

test("the algorithm's model is copied beside the inputs, from an algorithm's models only", async () => {
  const jobId = randomUUID();
  const body = Buffer.from('a model');
  const source = `algorithms/${randomUUID()}/models/${randomUUID()}.tar.gz`;
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: source, Body: body }));
  const model = {
    id: randomUUID(),
    sha256: sha256(body),
    key: `jobs/${jobId}/model.tar.gz`,
    source: { key: source, bytes: body.length },
    entries: 1,
    extractedBytes: 1,
  };
  const withModel = async (given: typeof model) => {
    const manifest = { jobId, interface: { inputs: [], outputs: [] }, inputs: [], model: given };
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: jobManifestKey(jobId), Body: JSON.stringify(manifest) }),
    );
    return stage(jobId);
  };
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `uploads/x/${source}`, Body: body }));
  expect(await withModel({ ...model, source: { ...model.source, key: `uploads/x/${source}` } })).toBe(1);
  expect(await withModel({ ...model, key: `jobs/${randomUUID()}/model.tar.gz` })).toBe(1);
  expect(await stored(model.key)).toBeUndefined();
  expect(await withModel(model)).toBe(0);
  expect(await stored(model.key)).toEqual(body);
});

test('a source gone since submission fails the staging, leaving no copy', async () => {
  const jobId = randomUUID();
  const input = await imageInput(jobId, Buffer.from('ct'));
  await writeManifest(jobId, [
    { ...input, source: { ...input.source!, key: `images/${randomUUID()}/ct.mha` } },
  ]);
  expect(await stage(jobId)).toBe(1);
  expect(await stored(input.key!)).toBeUndefined();
});

test('the stager refuses to start without a job id or its environment, naming what is missing', async () => {
  expect(await main(['not-a-job'], environment, s3)).toBe(2);
  expect(await main([randomUUID()], { IMAGING_BUCKET: BUCKET }, s3)).toBe(2);
});
