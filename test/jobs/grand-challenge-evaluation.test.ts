import * as path from 'node:path';
import { findContainerEngine } from '../../local/jobs/container-engine';
import { NO_CONTAINER_ENGINE } from '../../local/local-options';
import { LocalPlatform } from '../../local/local-platform';
import { apiClient } from '../helpers/api-client';
import { convertedImage, endedJob, settledImage } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';
import { buildPythonImage } from '../helpers/python-image';

let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
const images = { algorithm: '', evaluation: '' };
const alice = 'dev-alice';

beforeAll(async () => {
  const engine = findContainerEngine();
  if (!engine) throw new Error(NO_CONTAINER_ENGINE);
  images.algorithm = await buildPythonImage(engine, {
    tag: 'localhost/gc-evaluated-algorithm:latest',
    files: { 'inference.py': path.join(__dirname, 'fixtures/grand-challenge-template/inference.py') },
  });
  images.evaluation = await buildPythonImage(engine, {
    tag: 'localhost/gc-evaluation-method:latest',
    files: { 'inference.py': path.join(__dirname, 'fixtures/grand-challenge-evaluation/evaluate.py') },
  });
  platform = await startTestPlatform({}, { jobs: 'run' });
  call = apiClient(platform.urls.api);
}, 300_000);

afterAll(async () => {
  await platform?.stop();
});

async function registered(image: string, algorithmInterface: object): Promise<string> {
  const created = await call('POST', '/v1/algorithms', {
    token: alice,
    body: { title: 'Algorithm', image, interfaces: [algorithmInterface] },
  });
  expect(created.status).toBe(201);
  return created.body.id;
}

async function ranJob(algorithm: string, body: object) {
  const submitted = await call('POST', '/v1/jobs', { token: alice, body: { algorithm, ...body } });
  expect(submitted.status).toBe(201);
  return endedJob(call, alice, submitted.body.id);
}

test("an evaluation written as grand-challenge's template writes it scores the outputs of Succeeded jobs", async () => {
  const ct = { id: await convertedImage(call, alice) };

  const algorithm = await registered(images.algorithm, {
    inputs: [
      { slug: 'ct-image', kind: 'image', relativePath: 'images/ct' },
      { slug: 'threshold', kind: 'json', relativePath: 'threshold.json' },
    ],
    outputs: [
      { slug: 'mask', kind: 'image', relativePath: 'images/mask' },
      { slug: 'results', kind: 'json', relativePath: 'results.json' },
    ],
  });
  const jobs = [];
  for (const threshold of [100, 200]) {
    const job = await ranJob(algorithm, {
      inputs: [
        { socket: 'ct-image', image: ct.id },
        { socket: 'threshold', value: threshold },
      ],
    });
    expect(job.status).toBe('Succeeded');
    const mask = job.outputs.find((o: { socket: string }) => o.socket === 'mask').image as string;
    // A job is a prediction once its image outputs are converted.
    expect((await settledImage(call, alice, mask)).status).toBe('Succeeded');
    jobs.push({ id: job.id as string, mask });
  }

  const evaluation = await registered(images.evaluation, {
    inputs: [{ slug: 'minimum-fraction', kind: 'json', relativePath: 'minimum-fraction.json' }],
    outputs: [{ slug: 'metrics', kind: 'json', relativePath: 'metrics.json' }],
  });
  const evaluated = await ranJob(evaluation, {
    inputs: [{ socket: 'minimum-fraction', value: 0.5 }],
    predictions: jobs.map((job) => job.id),
  });
  expect(evaluated).toMatchObject({ status: 'Succeeded', predictions: jobs.map((job) => job.id) });
  const metrics = evaluated.outputs.find((o: { socket: string }) => o.socket === 'metrics').value;
  // Values 0 to 230 in steps of 10: 14 of 24 are 100 or more, 4 are 200 or more.
  const result = (job: { id: string; mask: string }, foreground: number) => ({
    pk: job.id,
    status: 'Succeeded',
    ct_image_name: 'ct.mha',
    mask_image_name: 'output.mha',
    voxels: 24,
    foreground,
    reported_foreground: foreground,
    fraction: foreground / 24,
    passed: foreground / 24 >= 0.5,
  });
  expect(metrics.results).toEqual([result(jobs[0], 14), result(jobs[1], 4)]);
  expect(metrics.aggregates).toEqual({ jobs: 2, mean_fraction: 18 / 48, all_passed: false });
  // Each job's outputs under /input/<pk>/output/, images as their converted file, beside the documents.
  expect(metrics.input_files).toEqual(
    [
      'inputs.json',
      'minimum-fraction.json',
      'predictions.json',
      ...jobs.flatMap((job) => [
        `${job.id}/output/images/mask/${job.mask}.mha`,
        `${job.id}/output/results.json`,
      ]),
    ].sort(),
  );
}, 300_000);
