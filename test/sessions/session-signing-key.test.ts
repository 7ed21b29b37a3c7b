import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { signSessionCredential, verifySessionCredential } from '../../lambda/contracts/session-credential';
import { SecretsManagerStandIn, startSecretsManagerStandIn } from '../../local/services/secrets-manager';
import { ReceivedResponse, startResponseServer } from '../delivery/cloudformation-response-server';
import { freePorts } from '../helpers/free-ports';

// The handler's Secrets Manager client follows AWS_ENDPOINT_URL_SECRETS_MANAGER, as in local mode.
let secretsManager: SecretsManagerStandIn;
let responses: Awaited<ReturnType<typeof startResponseServer>>;
let handler: typeof import('../../lambda/sessions/session-signing-key/index').handler;

const PREFIX = 'ImagingPlatform-Data/session-signing-key';
const KMS_KEY = 'arn:aws:kms:eu-central-1:000000000000:key/11111111-2222-3333-4444-555555555555';
const STACK_ID = 'arn:aws:cloudformation:eu-central-1:000000000000:stack/ImagingPlatform-Data/abc';
const SERVICE_TOKEN = 'arn:aws:lambda:eu-central-1:000000000000:function:session-key';
const PROPERTIES = { ServiceToken: SERVICE_TOKEN, SecretNamePrefix: PREFIX, KmsKeyId: KMS_KEY };

beforeAll(async () => {
  const [port] = await freePorts(1);
  secretsManager = await startSecretsManagerStandIn({ host: '127.0.0.1', port });
  responses = await startResponseServer();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${port}`,
    AWS_REGION: 'eu-central-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  // Loaded only now, so that its client is created with the endpoint above.
  ({ handler } =
    require('../../lambda/sessions/session-signing-key/index') as typeof import('../../lambda/sessions/session-signing-key/index'));
});

afterAll(async () => {
  await secretsManager.stop();
  await responses.stop();
});

let requestCounter = 0;

function event(
  requestType: 'Create' | 'Update' | 'Delete',
  extra: { PhysicalResourceId?: string; ResourceProperties?: Record<string, unknown> } = {},
): CloudFormationCustomResourceEvent {
  return {
    RequestType: requestType,
    ServiceToken: SERVICE_TOKEN,
    ResponseURL: responses.url,
    StackId: STACK_ID,
    RequestId: `request-${++requestCounter}`,
    LogicalResourceId: 'SessionSigningKey',
    ResourceType: 'Custom::SessionSigningKey',
    ResourceProperties: { ...PROPERTIES, ...extra.ResourceProperties },
    ...(extra.PhysicalResourceId && { PhysicalResourceId: extra.PhysicalResourceId }),
    ...(requestType === 'Update' && { OldResourceProperties: PROPERTIES }),
  } as CloudFormationCustomResourceEvent;
}

async function send(e: CloudFormationCustomResourceEvent): Promise<ReceivedResponse> {
  const before = responses.received.length;
  await handler(e);
  expect(responses.received).toHaveLength(before + 1);
  return responses.received[before];
}

const credential = (expiresAt: number) => ({
  sessionId: 'session',
  userId: 'user',
  expiresAt,
  issuedAt: 0,
  viewerOrigin: 'https://viewer.example.org',
  images: [],
});

describe('session signing key resource', () => {
  test('create writes an Ed25519 private key under the KMS key and returns only its public key, which verifies what it signs', async () => {
    const created = await send(event('Create'));
    expect(created.Status).toBe('SUCCESS');
    const secret = secretsManager.secrets.get(created.PhysicalResourceId)!;
    expect(secret.name).toMatch(new RegExp(`^${PREFIX}/[0-9a-f-]{36}$`));
    expect(secret.kmsKeyId).toBe(KMS_KEY);
    expect(created.Data.SecretArn).toBe(secret.arn);
    expect(JSON.stringify(created)).not.toContain('PRIVATE KEY');
    expect(createPrivateKey(secret.secretString).asymmetricKeyType).toBe('ed25519');
    expect(createPublicKey(created.Data.PublicKeyPem).asymmetricKeyType).toBe('ed25519');

    const future = Math.floor(Date.now() / 1000) + 60;
    const signed = signSessionCredential(credential(future), secret.secretString);
    expect(verifySessionCredential(signed, created.Data.PublicKeyPem, { sessionId: 'session' }).userId).toBe(
      'user',
    );
  });

  test('update keeps the key: the same id and public key, and no new secret', async () => {
    const created = await send(event('Create'));
    const before = secretsManager.secrets.size;
    const updated = await send(
      event('Update', {
        PhysicalResourceId: created.PhysicalResourceId,
        ResourceProperties: { ServiceToken: `${SERVICE_TOKEN}-v2` },
      }),
    );
    expect(updated.Status).toBe('SUCCESS');
    expect(updated.PhysicalResourceId).toBe(created.PhysicalResourceId);
    expect(updated.Data).toEqual(created.Data);
    expect(secretsManager.secrets.size).toBe(before);
  });

  test('update refuses a key outside its prefix', async () => {
    const other = secretsManager.put('elsewhere/key', 'not a key');
    const refused = await send(event('Update', { PhysicalResourceId: other.arn }));
    expect(refused.Status).toBe('FAILED');
    expect(refused.Reason).toContain(`is not under ${PREFIX}/`);
  });

  test('delete removes its secret, and leaves alone what it did not make', async () => {
    const created = await send(event('Create'));
    const other = secretsManager.put('elsewhere/other', 'kept');
    expect((await send(event('Delete', { PhysicalResourceId: created.PhysicalResourceId }))).Status).toBe(
      'SUCCESS',
    );
    expect(secretsManager.secrets.has(created.PhysicalResourceId)).toBe(false);
    expect((await send(event('Delete', { PhysicalResourceId: other.arn }))).Status).toBe('SUCCESS');
    expect(secretsManager.secrets.has(other.arn)).toBe(true);
    const failedCreate = event('Delete', {
      PhysicalResourceId: 'failed-request-1',
      ResourceProperties: { SecretNamePrefix: 42 },
    });
    expect((await send(failedCreate)).Status).toBe('SUCCESS');
  });

  test('bad properties fail the request, naming them', async () => {
    const failed = await send(event('Create', { ResourceProperties: { KmsKeyId: '' } }));
    expect(failed.Status).toBe('FAILED');
    expect(failed.Reason).toContain('KmsKeyId');
  });
});
