import { randomUUID } from 'node:crypto';
import type { SynthesizedPlatform } from '../../local/iam/synthesized-platform';
import { LocalPlatform } from '../../local/local-platform';
import { apiClient } from '../helpers/api-client';
import { completedUpload } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';
import { grants, withoutResources, withoutRoleStatements } from '../helpers/template-edits';

// Local mode reads its policies from the synthesized templates, so a role that lacks what its
// handler uses fails locally as it would on AWS. Each platform here is synthesized as usual and
// then has statements or resources taken out, as a deployment that lacked them would have.

const alice = 'dev-alice';
const roleOf = (synthesized: SynthesizedPlatform, handler: string) => synthesized.functions[handler].role;
const viaService = (statement: { Condition?: unknown }, service: string) =>
  JSON.stringify(statement.Condition ?? {}).includes(`"kms:ViaService":"${service}.`);

/** The status an API call answered, declared in the OpenAPI document or not (500 is not). */
async function statusOf(answer: Promise<{ status: number }>): Promise<number> {
  return answer.then(
    ({ status }) => status,
    (err: Error) => Number(/answered (\d+)/.exec(err.message)?.[1]),
  );
}

describe('a handler whose role lacks a permission it uses fails locally with AccessDenied', () => {
  let platform: LocalPlatform;
  let call: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    platform = await startTestPlatform(
      {},
      {
        templates: (synthesized) => {
          // get-upload without dynamodb:GetItem; create-image without the key through SQS.
          const noRead = withoutRoleStatements(synthesized, roleOf(synthesized, 'uploads/get-upload'), (s) =>
            grants(s, 'dynamodb:GetItem'),
          );
          return withoutRoleStatements(noRead, roleOf(noRead, 'images/create-image'), (s) =>
            viaService(s, 'sqs'),
          );
        },
      },
    );
    call = apiClient(platform.urls.api);
  }, 120_000);

  afterAll(() => platform?.stop());

  /** What local IAM refused the function of `handler`, by action and AWS's message. */
  const refusalsOf = (handler: string) => {
    const fn = platform.iam.access.functions.get(handler)!;
    const key = platform.iam.credentials.forRole(fn.roleArn, fn.name).accessKeyId;
    return platform.iam.refusals
      .filter((r) => r.accessKeyId === key)
      .map(({ action, message }) => ({ action, message }));
  };

  test('a table action: the handler is refused by DynamoDB and the request fails', async () => {
    const upload = await completedUpload(call, alice);
    const read = call('GET', '/v1/uploads/{uploadId}', { token: alice, params: { uploadId: upload } });
    expect(await statusOf(read)).toBe(500);
    expect(refusalsOf('uploads/get-upload')).toContainEqual({
      action: 'dynamodb:GetItem',
      message: expect.stringMatching(
        /^User: arn:aws:sts::000000000000:assumed-role\/local-Api-RestApiGetUploadRole\w+\/local-Api-RestApiGetUpload\w+ is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:eu-central-1:000000000000:table\/local-uploads because no identity-based policy allows the dynamodb:GetItem action$/,
      ),
    });
  });

  test('the key of an encrypted queue: SQS refuses to take the message, and the image is not created', async () => {
    const upload = await completedUpload(call, alice);
    expect(await statusOf(call('POST', '/v1/images', { token: alice, body: { uploads: [upload] } }))).toBe(
      500,
    );
    expect(refusalsOf('images/create-image')).toContainEqual({
      action: 'kms:GenerateDataKey',
      message: expect.stringMatching(
        /is not authorized to perform: kms:GenerateDataKey on resource: arn:aws:kms:eu-central-1:000000000000:key\/[0-9a-f-]+ because no identity-based policy allows the kms:GenerateDataKey action$/,
      ),
    });
    expect(platform.queues.messages('local-image-conversion')).toEqual([]);
  });
});

describe('encrypted dead-letter queues take the events that failed (fixed in 397a58a)', () => {
  let platform: LocalPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform(
      {},
      {
        templates: (synthesized) => {
          // EventBridge may not invoke the job state handler; the converter-job handler's own
          // writes are refused, so every attempt of it fails.
          const noInvoke = withoutResources(
            synthesized,
            'local-Api',
            (r) =>
              r.Type === 'AWS::Lambda::Permission' &&
              JSON.stringify(r.Properties).includes(
                synthesized.functions['jobs/batch-job-state-change'].function.logicalId,
              ),
          );
          return withoutRoleStatements(noInvoke, roleOf(noInvoke, 'images/fail-converter-job'), (s) =>
            grants(s, 'dynamodb:UpdateItem'),
          );
        },
      },
    );
  }, 120_000);

  afterAll(() => platform?.stop());

  const failures = () =>
    platform.queues
      .messages('local-background-failures')
      .map((m) => JSON.parse(m.body) as { detail: { jobId: string } });

  test('an event EventBridge cannot deliver reaches the encrypted queue: EventBridge may use the key', async () => {
    const jobId = randomUUID();
    await platform.functions.deliverBatchEvent({
      jobId,
      jobName: randomUUID(),
      jobQueue: `arn:aws:batch:eu-central-1:000000000000:job-queue/${platform.settings.gpuJobQueue}`,
      status: 'RUNNING',
    });
    expect(failures().filter((event) => event.detail.jobId === jobId)).toHaveLength(1);
  });

  test("an event a function failed on every attempt reaches the encrypted queue: the function's role may use the key through SQS", async () => {
    const jobId = randomUUID();
    await platform.functions.deliverBatchEvent({
      jobId,
      jobName: randomUUID(),
      jobQueue: `arn:aws:batch:eu-central-1:000000000000:job-queue/${platform.settings.converterJobQueue}`,
      status: 'FAILED',
      statusReason: 'Essential container in task exited',
    });
    expect(failures().filter((event) => event.detail.jobId === jobId)).toHaveLength(1);
  });
});
