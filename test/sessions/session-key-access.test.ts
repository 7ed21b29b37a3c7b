import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { LocalPlatform } from '../../local/local-platform';
import { apiClient } from '../helpers/api-client';
import { convertedImage } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';
import { grants, withoutRoleStatements } from '../helpers/template-edits';

// Local mode reads its policies from the synthesized templates: a start whose role may not read
// the session signing key fails as it would on AWS, and gives back what it had claimed.

let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let documents: DynamoDBDocumentClient;
const alice = 'dev-alice';

beforeAll(async () => {
  platform = await startTestPlatform(
    {},
    {
      templates: (synthesized) =>
        withoutRoleStatements(
          synthesized,
          synthesized.functions['sessions/create-session'].role,
          (s) =>
            grants(s, 'secretsmanager:GetSecretValue') &&
            JSON.stringify(s.Resource).includes('SessionSigningKey'),
        ),
    },
  );
  call = apiClient(platform.urls.api);
  documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
}, 120_000);

afterAll(async () => {
  documents.destroy();
  await platform?.stop();
});

const scan = async (table: string) =>
  (await documents.send(new ScanCommand({ TableName: table }))).Items ?? [];

test('a start refused the session key by IAM fails, leaving no session and no claimed slot', async () => {
  const image = await convertedImage(call, alice);
  const started = await call('POST', '/v1/sessions', { token: alice, body: { images: [image] } }).then(
    ({ status }) => status,
    (err: Error) => Number(/answered (\d+)/.exec(err.message)?.[1]),
  );
  expect(started).toBe(500);
  const fn = platform.iam.access.functions.get('sessions/create-session')!;
  const key = platform.iam.credentials.forRole(fn.roleArn, fn.name).accessKeyId;
  expect(platform.iam.refusals.filter((r) => r.accessKeyId === key).map((r) => r.action)).toContain(
    'secretsmanager:GetSecretValue',
  );
  expect(await scan(platform.settings.sessionsTable)).toEqual([]);
  expect(await scan(platform.settings.sessionSlotsTable)).toEqual([]);
});
