import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stageModel } from '../../containers/jobs/runner/stage-model';
import { RunnerRefusal } from '../../containers/jobs/runner/runner-refusal';
import { emptyExtracted } from '../../lambda/algorithms/model-archive';
import { JobManifest } from '../../lambda/jobs/job-manifest';
import { EmbeddedS3, startS3 } from '../helpers/embedded-s3';
import { modelTarball } from '../../packages/image-io/test/helpers/tar-archive';

const BUCKET = 'stage-model-test';
let local: EmbeddedS3;
let modelDir: string;

const weights = modelTarball([{ name: 'model.txt', content: 'weights' }]);
const sha256 = createHash('sha256').update(weights).digest('hex');

beforeAll(async () => {
  local = await startS3(BUCKET);
});
afterAll(() => local.stop());
beforeEach(() => {
  modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stage-model-'));
  // What Docker seeds a volume with: the image's own files at that path.
  fs.writeFileSync(path.join(modelDir, 'from-the-image.txt'), 'x');
});
afterEach(async () => {
  await emptyExtracted(modelDir);
  fs.rmSync(modelDir, { recursive: true });
});

function manifest(jobId: string, model?: Partial<NonNullable<JobManifest['model']>>): JobManifest {
  return {
    jobId,
    image: 'localhost/x@sha256:' + '0'.repeat(64),
    timeLimitSeconds: 300,
    memoryGb: 4,
    gpu: false,
    interface: { inputs: [], outputs: [] },
    inputs: [],
    ...(model && {
      model: {
        id: 'b0d4e5f6-0000-4000-8000-000000000001',
        sha256,
        key: `jobs/${jobId}/model.tar.gz`,
        source: { key: 'algorithms/a/models/m.tar.gz', bytes: weights.length },
        entries: 1,
        extractedBytes: 7,
        ...model,
      },
    }),
  };
}

async function stored(jobId: string, body: Buffer) {
  await local.s3.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: `jobs/${jobId}/model.tar.gz`, Body: body }),
  );
}

describe("the runner's placing of a model", () => {
  test('replaces what the folder held with the model, without write bits', async () => {
    const jobId = randomUUID();
    await stored(jobId, weights);
    await stageModel(local.s3, BUCKET, manifest(jobId, {}), modelDir);
    expect(fs.readdirSync(modelDir)).toEqual(['model.txt']);
    expect(fs.statSync(path.join(modelDir, 'model.txt')).mode & 0o777).toBe(0o444);
    expect(fs.statSync(modelDir).mode & 0o777).toBe(0o555);
  });

  test('without a model, leaves the folder as it is: what the image has there shows', async () => {
    await stageModel(local.s3, BUCKET, manifest(randomUUID()), modelDir);
    expect(fs.readdirSync(modelDir)).toEqual(['from-the-image.txt']);
  });

  test('refuses, naming the model, a copy outside the job, a missing copy, or more than validation counted', async () => {
    const jobId = randomUUID();
    const refusal = (given: JobManifest) => stageModel(local.s3, BUCKET, given, modelDir);
    await expect(refusal(manifest(jobId, { key: 'jobs/other/model.tar.gz' }))).rejects.toThrow(
      new RunnerRefusal(
        "model b0d4e5f6-0000-4000-8000-000000000001 is not in the job's folder: jobs/other/model.tar.gz",
      ),
    );
    await expect(refusal(manifest(jobId, {}))).rejects.toThrow(
      /^model b0d4e5f6-0000-4000-8000-000000000001 could not be read/,
    );
    await stored(jobId, weights);
    await expect(refusal(manifest(jobId, { extractedBytes: 6 }))).rejects.toThrow(
      'model b0d4e5f6-0000-4000-8000-000000000001: the model holds more than 6 bytes once extracted (counted when it was validated)',
    );
    expect(fs.readdirSync(modelDir)).toEqual([]);
  });
});
