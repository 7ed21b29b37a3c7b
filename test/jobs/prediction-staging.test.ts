import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../containers/jobs/input-stager/entrypoint';
import { stagePredictions } from '../../containers/jobs/runner/stage-predictions';
import { jobManifestKey, jobPredictionKey } from '../../lambda/contracts/bucket-layout';
import { pinnedObject } from '../../lambda/core/object-copy';
import { JobManifest, ManifestInput } from '../../lambda/jobs/job-manifest';
import { ManifestPrediction } from '../../lambda/jobs/predictions-json';
import { EmbeddedS3, startS3 } from '../helpers/embedded-s3';

const BUCKET = 'predictions';

let local: EmbeddedS3;
let s3: S3Client;
let scratch: string;

beforeAll(async () => {
  local = await startS3(BUCKET);
  ({ s3 } = local);
  scratch = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'prediction-staging-'));
});

afterAll(async () => {
  await local.stop();
  await fs.promises.rm(scratch, { recursive: true, force: true });
});

const stage = (jobId: string) =>
  main(
    [jobId],
    {
      IMAGING_BUCKET: BUCKET,
      COPY_PART_BYTES: String(5 * 1024 ** 2),
      BUSINESS_METRIC_NAMESPACE: 'Platform',
    },
    s3,
  );

async function put(key: string, body: string) {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

/** A job that evaluates one prediction: its notes file (a stored output) and its mask (a converted image). */
async function evaluation() {
  const jobId = randomUUID();
  const predicted = randomUUID();
  const mask = randomUUID();
  await put(`jobs/${predicted}/outputs/1`, 'two voxels');
  await put(`images/${mask}/${mask}.mha`, 'ObjectType = Image\n');
  const outputs: ManifestInput[] = [
    {
      socket: { slug: 'mask', kind: 'image', relativePath: 'images/mask' },
      path: `${predicted}/output/images/mask/${mask}.mha`,
      key: jobPredictionKey(jobId, 0),
      source: (await pinnedObject(s3, BUCKET, `images/${mask}/${mask}.mha`))!,
      image: { pk: mask, name: 'output.mha' },
    },
    {
      socket: { slug: 'results', kind: 'json', relativePath: 'results.json' },
      path: `${predicted}/output/results.json`,
      value: { foreground: 2 },
    },
    {
      socket: { slug: 'notes', kind: 'txt', relativePath: 'notes.txt' },
      path: `${predicted}/output/notes.txt`,
      key: jobPredictionKey(jobId, 1),
      source: (await pinnedObject(s3, BUCKET, `jobs/${predicted}/outputs/1`))!,
    },
  ];
  const prediction: ManifestPrediction = {
    jobId: predicted,
    algorithmVersionId: randomUUID(),
    image: 'localhost/threshold:latest',
    inputs: [],
    outputs,
  };
  const manifest: JobManifest = {
    jobId,
    image: 'localhost/evaluation:latest',
    timeLimitSeconds: 300,
    memoryGb: 4,
    gpu: false,
    interface: { inputs: [], outputs: [] },
    inputs: [],
    predictions: [prediction],
  };
  const write = (changed: JobManifest) =>
    put(jobManifestKey(jobId), JSON.stringify(changed)).then(() => changed);
  await write(manifest);
  return { jobId, predicted, mask, manifest, write };
}

describe("the staging job copies a prediction's files under the job's inputs", () => {
  test('a stored output and a converted image, each from where the manifest pinned it', async () => {
    const { jobId } = await evaluation();
    expect(await stage(jobId)).toBe(0);
    expect(String(await local.stored(jobPredictionKey(jobId, 0)))).toBe('ObjectType = Image\n');
    expect(String(await local.stored(jobPredictionKey(jobId, 1)))).toBe('two voxels');
  });

  test.each([
    ['from another job than the prediction', (other: string) => ({ source: `jobs/${other}/outputs/1` })],
    ['from an upload', () => ({ source: 'uploads/someone/upload' })],
    ['into another job', (other: string) => ({ key: jobPredictionKey(other, 1) })],
  ])('a manifest that copies %s fails and copies nothing', async (_, change) => {
    const { jobId, manifest, write } = await evaluation();
    const other = randomUUID();
    await put(`jobs/${other}/outputs/1`, 'not this job');
    await put('uploads/someone/upload', 'an upload');
    const { source, key } = change(other) as { source?: string; key?: string };
    const [prediction] = manifest.predictions!;
    const notes = prediction.outputs[2];
    await write({
      ...manifest,
      predictions: [
        {
          ...prediction,
          outputs: [
            { ...notes, ...(key && { key }), ...(source && { source: { ...notes.source!, key: source } }) },
          ],
        },
      ],
    });
    expect(await stage(jobId)).toBe(1);
    expect(await local.stored(key ?? jobPredictionKey(jobId, 1))).toBeUndefined();
  });
});

describe("the runner places a prediction's outputs and writes predictions.json", () => {
  test('each output at <job id>/output/<relative path>, values as JSON, files as copied', async () => {
    const { jobId, predicted, mask, manifest } = await evaluation();
    expect(await stage(jobId)).toBe(0);
    const inputDir = await fs.promises.mkdtemp(path.join(scratch, 'input-'));
    await stagePredictions(s3, BUCKET, manifest, inputDir);
    const readBack = (relative: string) => fs.promises.readFile(path.join(inputDir, relative), 'utf8');
    expect(await readBack(`${predicted}/output/images/mask/${mask}.mha`)).toBe('ObjectType = Image\n');
    expect(JSON.parse(await readBack(`${predicted}/output/results.json`))).toEqual({ foreground: 2 });
    expect(await readBack(`${predicted}/output/notes.txt`)).toBe('two voxels');
    const [job] = JSON.parse(await readBack('predictions.json'));
    expect(job).toMatchObject({ pk: predicted, status: 'Succeeded' });
    expect(job.outputs.map((o: { interface: { slug: string } }) => o.interface.slug)).toEqual([
      'results',
      'notes',
      'mask',
    ]);
  });

  test('nothing is written for a job that evaluates no predictions', async () => {
    const { manifest } = await evaluation();
    const inputDir = await fs.promises.mkdtemp(path.join(scratch, 'input-'));
    await stagePredictions(s3, BUCKET, { ...manifest, predictions: undefined }, inputDir);
    expect(await fs.promises.readdir(inputDir)).toEqual([]);
  });

  test.each([
    ["outside its job's folder", () => `${randomUUID()}/output/results.json`],
    ['out of /input', (predicted: string) => `${predicted}/output/../../../etc/passwd`],
  ])('an output placed %s is refused before anything is written', async (_, where) => {
    const { predicted, manifest } = await evaluation();
    const [prediction] = manifest.predictions!;
    const inputDir = await fs.promises.mkdtemp(path.join(scratch, 'input-'));
    const changed = {
      ...manifest,
      predictions: [{ ...prediction, outputs: [{ ...prediction.outputs[1], path: where(predicted) }] }],
    };
    await expect(stagePredictions(s3, BUCKET, changed, inputDir)).rejects.toThrow(
      `output "results" of job ${predicted} has a path outside its job's folder`,
    );
    expect(await fs.promises.readdir(inputDir)).toEqual([]);
  });
});
