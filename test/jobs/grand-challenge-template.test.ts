import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContainerEngine, findContainerEngine } from '../../local/jobs/container-engine';
import { NO_CONTAINER_ENGINE } from '../../local/local-options';
import { LocalPlatform } from '../../local/local-platform';
import { apiClient } from '../helpers/api-client';
import { convertedImage, endedJob, settledImage } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';
import { buildPythonImage } from '../helpers/python-image';

let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let engine: ContainerEngine;
let scratch: string;
const images = { template: '', legacy: '' };
const alice = 'dev-alice';

const TEMPLATE = path.join(__dirname, 'fixtures/grand-challenge-template/inference.py');
/** The same algorithm as older templates wrote it, reading each input's `interface`. */
const legacy = () => fs.readFileSync(TEMPLATE, 'utf8').replaceAll('["socket"]', '["interface"]');

beforeAll(async () => {
  const found = findContainerEngine();
  if (!found) throw new Error(NO_CONTAINER_ENGINE);
  engine = found;
  scratch = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'grand-challenge-template-'));
  const legacyScript = path.join(scratch, 'inference.py');
  await fs.promises.writeFile(legacyScript, legacy());
  images.template = await buildPythonImage(engine, {
    tag: 'localhost/gc-inputs-template-algorithm:latest',
    files: { 'inference.py': TEMPLATE },
  });
  images.legacy = await buildPythonImage(engine, {
    tag: 'localhost/gc-inputs-legacy-algorithm:latest',
    files: { 'inference.py': legacyScript },
  });
  platform = await startTestPlatform({}, { jobs: 'run' });
  call = apiClient(platform.urls.api);
}, 300_000);

afterAll(async () => {
  await platform?.stop();
  if (scratch) await fs.promises.rm(scratch, { recursive: true, force: true });
});

/** Registers the algorithm in `image` with the template's interface, runs one job and reads it until it ends. */
async function finishedJob(image: string) {
  const algorithm = await call('POST', '/v1/algorithms', {
    token: alice,
    body: {
      title: 'Template threshold',
      image,
      interfaces: [
        {
          inputs: [
            { slug: 'ct-image', kind: 'image', relativePath: 'images/ct' },
            { slug: 'threshold', kind: 'json', relativePath: 'threshold.json' },
          ],
          outputs: [
            { slug: 'mask', kind: 'image', relativePath: 'images/mask' },
            { slug: 'results', kind: 'json', relativePath: 'results.json' },
          ],
        },
      ],
    },
  });
  expect(algorithm.status).toBe(201);
  const submitted = await call('POST', '/v1/jobs', {
    token: alice,
    body: {
      algorithm: algorithm.body.id,
      inputs: [
        { socket: 'threshold', value: 100 },
        { socket: 'ct-image', image: await convertedImage(call, alice) },
      ],
    },
  });
  expect(submitted.status).toBe(201);
  return endedJob(call, alice, submitted.body.id);
}

describe("a Python algorithm from grand-challenge's template runs unchanged", () => {
  test.each([
    ['the current template, reading "socket"', 'template'],
    ['an older template, reading "interface"', 'legacy'],
  ] as const)('%s: it finds its inputs through inputs.json and its outputs are stored', async (_, which) => {
    const job = await finishedJob(images[which]);
    expect(job).toMatchObject({ status: 'Succeeded' });
    const results = job.outputs.find((o: { socket: string }) => o.socket === 'results');
    // Values 0 to 230 in steps of 10: 100 and above are 14 of 24.
    expect(results.value).toEqual({
      threshold: 100,
      voxels: 24,
      foreground: 14,
      image_name: 'ct.mha',
      kinds: { 'ct-image': 'Image', threshold: 'Anything' },
      // Its home, from the image's own /etc/passwd, is writable, as on grand-challenge.
      model_cache: '/home/user/.cache/threshold-model/weights.json',
    });
    const mask = job.outputs.find((o: { socket: string }) => o.socket === 'mask');
    const image = await settledImage(call, alice, mask.image);
    expect(image).toMatchObject({
      status: 'Succeeded',
      metadata: { size: [4, 3, 2], spacing: [0.5, 0.5, 2], componentType: 'uint8' },
    });
  });

  test('the older algorithm reads no "socket" key: it is the template with "interface" in its place', () => {
    expect(legacy()).not.toContain('["socket"]');
    expect(legacy()).toContain('sv["interface"]["slug"]');
  });
});
