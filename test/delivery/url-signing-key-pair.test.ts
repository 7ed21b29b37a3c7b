import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { createPrivateKey, createPublicKey, createSign, createVerify } from 'node:crypto';
import { SecretsManagerStandIn, startSecretsManagerStandIn } from '../../local/services/secrets-manager';
import { freePorts } from '../helpers/free-ports';
import { ReceivedResponse, startResponseServer } from './cloudformation-response-server';

// The handler's Secrets Manager client follows AWS_ENDPOINT_URL_SECRETS_MANAGER, as in local mode.
let secretsManager: SecretsManagerStandIn;
let responses: Awaited<ReturnType<typeof startResponseServer>>;
let handler: typeof import('../../lambda/delivery/url-signing-key-pair/index').handler;

const PREFIX = 'ImagingPlatform-Data/url-signing-key';
const KMS_KEY = 'arn:aws:kms:eu-central-1:000000000000:key/11111111-2222-3333-4444-555555555555';
const STACK_ID = 'arn:aws:cloudformation:eu-central-1:000000000000:stack/ImagingPlatform-Data/abc';

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
    require('../../lambda/delivery/url-signing-key-pair/index') as typeof import('../../lambda/delivery/url-signing-key-pair/index'));
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
    ServiceToken: 'arn:aws:lambda:eu-central-1:000000000000:function:generator',
    ResponseURL: responses.url,
    StackId: STACK_ID,
    RequestId: `request-${++requestCounter}`,
    LogicalResourceId: 'UrlSigningKeyPair27232BC2',
    ResourceType: 'Custom::UrlSigningKeyPair',
    ResourceProperties: {
      ServiceToken: 'arn:aws:lambda:eu-central-1:000000000000:function:generator',
      SecretNamePrefix: PREFIX,
      KmsKeyId: KMS_KEY,
      ...extra.ResourceProperties,
    },
    ...(extra.PhysicalResourceId && { PhysicalResourceId: extra.PhysicalResourceId }),
    ...(requestType === 'Update' && {
      OldResourceProperties: { SecretNamePrefix: PREFIX, KmsKeyId: KMS_KEY },
    }),
  } as CloudFormationCustomResourceEvent;
}

async function send(e: CloudFormationCustomResourceEvent): Promise<ReceivedResponse> {
  const before = responses.received.length;
  await handler(e);
  expect(responses.received).toHaveLength(before + 1);
  const response = responses.received[before];
  expect(response.RequestId).toBe(e.RequestId);
  return response;
}

function signs(privateKeyPem: string, publicKeyPem: string): boolean {
  const signature = createSign('RSA-SHA256').update('policy').sign(privateKeyPem);
  return createVerify('RSA-SHA256').update('policy').verify(publicKeyPem, signature);
}

describe('url signing key pair resource', () => {
  test('create writes a new private key to Secrets Manager under the KMS key and returns only the public key', async () => {
    const response = await send(event('Create'));
    expect(response.Status).toBe('SUCCESS');
    const secret = secretsManager.secrets.get(response.PhysicalResourceId)!;
    expect(secret).toBeDefined();
    expect(secret.name.startsWith(`${PREFIX}/`)).toBe(true);
    expect(secret.kmsKeyId).toBe(KMS_KEY);
    expect(secret.tags).toEqual([{ Key: 'cloudformation:stack-id', Value: STACK_ID }]);
    expect(response.Data.SecretArn).toBe(secret.arn);

    // CloudFront takes an SPKI PEM of an RSA 2048 key; the response carries no private key.
    const publicKey = createPublicKey(response.Data.PublicKeyPem);
    expect(response.Data.PublicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(JSON.stringify(response)).not.toContain('PRIVATE KEY');
    expect(createPrivateKey(secret.secretString).asymmetricKeyType).toBe('rsa');
    expect(signs(secret.secretString, response.Data.PublicKeyPem)).toBe(true);
  });

  test('update rotates: a new key pair in a new secret, the old one left for CloudFormation to delete', async () => {
    const created = await send(event('Create'));
    const updated = await send(event('Update', { PhysicalResourceId: created.PhysicalResourceId }));
    expect(updated.Status).toBe('SUCCESS');
    expect(updated.PhysicalResourceId).not.toBe(created.PhysicalResourceId);
    expect(updated.Data.PublicKeyPem).not.toBe(created.Data.PublicKeyPem);
    const newSecret = secretsManager.secrets.get(updated.PhysicalResourceId)!;
    expect(signs(newSecret.secretString, updated.Data.PublicKeyPem)).toBe(true);
    expect(secretsManager.secrets.has(created.PhysicalResourceId)).toBe(true);
  });

  test('delete removes the secret without a recovery window, leaving no copy of the key', async () => {
    const created = await send(event('Create'));
    const privateKey = secretsManager.secrets.get(created.PhysicalResourceId)!.secretString;
    const deleted = await send(event('Delete', { PhysicalResourceId: created.PhysicalResourceId }));
    expect(deleted).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: created.PhysicalResourceId });
    expect(secretsManager.secrets.has(created.PhysicalResourceId)).toBe(false);
    const remaining = [...secretsManager.secrets.values()].map((s) => s.secretString);
    expect(remaining).not.toContain(privateKey);
  });

  test('delete of a secret that is already gone succeeds', async () => {
    const created = await send(event('Create'));
    await send(event('Delete', { PhysicalResourceId: created.PhysicalResourceId }));
    const again = await send(event('Delete', { PhysicalResourceId: created.PhysicalResourceId }));
    expect(again.Status).toBe('SUCCESS');
  });

  test('delete never touches a secret outside its prefix', async () => {
    const other = secretsManager.put('someone-else/secret', 'keep me');
    const response = await send(event('Delete', { PhysicalResourceId: other.arn }));
    expect(response.Status).toBe('SUCCESS');
    expect(secretsManager.secrets.get(other.arn)?.secretString).toBe('keep me');
  });

  test('a create with bad properties fails with the reason and makes nothing; its rollback delete succeeds', async () => {
    const before = secretsManager.secrets.size;
    const failed = await send(event('Create', { ResourceProperties: { KmsKeyId: '' } }));
    expect(failed.Status).toBe('FAILED');
    expect(failed.Reason).toBe('KmsKeyId must name the KMS key that encrypts the private key');
    expect(secretsManager.secrets.size).toBe(before);
    const rollback = await send(
      event('Delete', {
        PhysicalResourceId: failed.PhysicalResourceId,
        ResourceProperties: { KmsKeyId: '' },
      }),
    );
    expect(rollback.Status).toBe('SUCCESS');
  });

  test('a malformed secret name prefix fails with the property named', async () => {
    const failed = await send(
      event('Create', { ResourceProperties: { SecretNamePrefix: 'bad name with spaces' } }),
    );
    expect(failed.Status).toBe('FAILED');
    expect(failed.Reason).toMatch(/SecretNamePrefix/);
  });
});
