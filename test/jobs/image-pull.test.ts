import { EXAMPLE_ALGORITHM } from '../../containers/algorithms/example-threshold/deploy';
import { ContainerEngine, findContainerEngine } from '../../local/jobs/container-engine';
import { buildNodeImage } from '../../local/jobs/node-image-builder';
import { NO_CONTAINER_ENGINE } from '../../local/local-options';
import { LocalPlatform } from '../../local/local-platform';
import { apiClient } from '../helpers/api-client';
import { completedUpload, settledImage } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';
import { withoutRoleStatements } from '../helpers/template-edits';

// As Batch does, local mode pulls a job's image with its job definition's execution role: a role
// that may not pull from the image's repository fails the job before its container starts.
let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let engine: ContainerEngine;
let image: string;
const alice = 'dev-alice';

beforeAll(async () => {
  const found = findContainerEngine();
  if (!found) throw new Error(NO_CONTAINER_ENGINE);
  engine = found;
  image = await buildNodeImage(engine, { ...EXAMPLE_ALGORITHM, tag: 'localhost/test-image-pull:latest' });
  platform = await startTestPlatform(
    {},
    {
      jobs: 'run',
      templates: (synthesized) =>
        withoutRoleStatements(synthesized, synthesized.algorithmJobs.executionRole, (statement) =>
          [statement.Action].flat().includes('ecr:BatchGetImage'),
        ),
    },
  );
  call = apiClient(platform.urls.api);
}, 180_000);

afterAll(() => platform?.stop());

test('a job whose execution role may not pull its image fails with CannotPullContainerError', async () => {
  const upload = await completedUpload(
    call,
    alice,
    'ct.mha',
    'ObjectType = Image\nNDims = 2\nDimSize = 2 2\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n\x00\x01\x02\x03',
  );
  const created = await call('POST', '/v1/images', { token: alice, body: { uploads: [upload] } });
  expect((await settledImage(call, alice, created.body.id)).status).toBe('Succeeded');
  const algorithm = await call('POST', '/v1/algorithms', {
    token: alice,
    body: {
      title: 'Threshold',
      image,
      interfaces: [
        {
          inputs: [
            { slug: 'ct-image', kind: 'image', relativePath: 'images/ct' },
            { slug: 'threshold', kind: 'json', relativePath: 'threshold.json' },
          ],
          outputs: [{ slug: 'results', kind: 'json', relativePath: 'results.json' }],
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
        { socket: 'ct-image', image: created.body.id },
        { socket: 'threshold', value: 1 },
      ],
    },
  });
  expect(submitted.status).toBe(201);
  await platform.jobs!.idle();
  const job = await call('GET', '/v1/jobs/{jobId}', { token: alice, params: { jobId: submitted.body.id } });
  expect(job.body).toMatchObject({ status: 'Failed', statusReason: 'the image could not be started' });
  const batchJob = platform.batch.jobs.find((j) => j.jobName === submitted.body.id)!;
  expect(batchJob.statusReason).toMatch(
    /^CannotPullContainerError: AccessDeniedException: User: arn:aws:sts::000000000000:assumed-role\/local-job-execution\/ecs-agent is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:eu-central-1:000000000000:repository\/test-image-pull /,
  );
  // Its container never started.
  expect(platform.jobs!.logs.get(batchJob.jobId)).toBeUndefined();
});
