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
const SERVICE_TOKEN = 'arn:aws:lambda:eu-central-1:000000000000:function:generator';
/** The properties of generation 1's resource, as CloudFormation sends them (numbers as strings). */
const GENERATION_1 = {
  ServiceToken: SERVICE_TOKEN,
  SecretNamePrefix: PREFIX,
  KmsKeyId: KMS_KEY,
  Generation: '1',
};

function event(
  requestType: 'Create' | 'Update' | 'Delete',
  extra: {
    PhysicalResourceId?: string;
    ResourceProperties?: Record<string, unknown>;
    OldResourceProperties?: Record<string, unknown>;
    LogicalResourceId?: string;
  } = {},
): CloudFormationCustomResourceEvent {
  return {
    RequestType: requestType,
    ServiceToken: SERVICE_TOKEN,
    ResponseURL: responses.url,
    StackId: STACK_ID,
    RequestId: `request-${++requestCounter}`,
    LogicalResourceId: extra.LogicalResourceId ?? 'UrlSigningKeyPairGeneration1F6D9E0C4',
    ResourceType: 'Custom::UrlSigningKeyPair',
    ResourceProperties: { ...GENERATION_1, ...extra.ResourceProperties },
    ...(extra.PhysicalResourceId && { PhysicalResourceId: extra.PhysicalResourceId }),
    ...(requestType === 'Update' && {
      OldResourceProperties: extra.OldResourceProperties ?? GENERATION_1,
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

  test("create names the secret after the key pair's generation", async () => {
    const created = await send(event('Create', { ResourceProperties: { Generation: '7' } }));
    expect(secretsManager.secrets.get(created.PhysicalResourceId)!.name).toMatch(
      new RegExp(`^${PREFIX}/generation-7-[0-9a-f-]{36}$`),
    );
  });

  test('update keeps the key pair: the same physical id and public key, and no new secret', async () => {
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
    // Byte for byte: a different text would make CloudFormation update the CloudFront public key,
    // which CloudFront refuses.
    expect(updated.Data).toEqual(created.Data);
    expect(secretsManager.secrets.size).toBe(before);
  });

  test('a rolled-back update gets back the key pair it had and mints none', async () => {
    const created = await send(event('Create'));
    const before = secretsManager.secrets.size;
    const forward = { ...GENERATION_1, ServiceToken: `${SERVICE_TOKEN}-v2` };
    await send(
      event('Update', { PhysicalResourceId: created.PhysicalResourceId, ResourceProperties: forward }),
    );
    // CloudFormation rolls back by sending the old properties as the new ones.
    const rolledBack = await send(
      event('Update', {
        PhysicalResourceId: created.PhysicalResourceId,
        ResourceProperties: GENERATION_1,
        OldResourceProperties: forward,
      }),
    );
    expect(rolledBack).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: created.PhysicalResourceId });
    expect(rolledBack.Data).toEqual(created.Data);
    expect(secretsManager.secrets.size).toBe(before);
  });

  test('an update to another generation fails naming it and changes nothing; its rollback succeeds', async () => {
    const created = await send(event('Create'));
    const privateKey = secretsManager.secrets.get(created.PhysicalResourceId)!.secretString;
    const before = secretsManager.secrets.size;
    const failed = await send(
      event('Update', {
        PhysicalResourceId: created.PhysicalResourceId,
        ResourceProperties: { Generation: '2' },
      }),
    );
    expect(failed).toMatchObject({ Status: 'FAILED', PhysicalResourceId: created.PhysicalResourceId });
    expect(failed.Reason).toMatch(/is not of generation 2 .*raise urlSigningKeyGeneration/);
    expect(secretsManager.secrets.size).toBe(before);
    expect(secretsManager.secrets.get(created.PhysicalResourceId)!.secretString).toBe(privateKey);
    const rolledBack = await send(
      event('Update', {
        PhysicalResourceId: created.PhysicalResourceId,
        OldResourceProperties: { ...GENERATION_1, Generation: '2' },
      }),
    );
    expect(rolledBack).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: created.PhysicalResourceId });
    expect(rolledBack.Data).toEqual(created.Data);
  });

  test('an update of a key pair whose secret is gone fails saying so, and mints none', async () => {
    const created = await send(event('Create'));
    await send(event('Delete', { PhysicalResourceId: created.PhysicalResourceId }));
    const before = secretsManager.secrets.size;
    const failed = await send(
      event('Update', {
        PhysicalResourceId: created.PhysicalResourceId,
        ResourceProperties: { ServiceToken: `${SERVICE_TOKEN}-v2` },
      }),
    );
    expect(failed.Status).toBe('FAILED');
    expect(failed.Reason).toMatch(/no longer exists; raise urlSigningKeyGeneration/);
    expect(secretsManager.secrets.size).toBe(before);
  });

  test('a rotation as CloudFormation runs it: made beside, rolled back, made again, the old one retired', async () => {
    const generation = (n: number) => ({
      LogicalResourceId: `UrlSigningKeyPairGeneration${n}`,
      ResourceProperties: { Generation: String(n) },
    });
    const first = await send(event('Create', generation(1)));
    // The rotation's deployment: generation 2 is a new resource beside generation 1, whose
    // properties may change (a new service token) without touching its key.
    const second = await send(event('Create', generation(2)));
    const firstUpdated = await send(
      event('Update', {
        ...generation(1),
        PhysicalResourceId: first.PhysicalResourceId,
        ResourceProperties: { ...GENERATION_1, ServiceToken: `${SERVICE_TOKEN}-v2` },
      }),
    );
    expect(firstUpdated.Data).toEqual(first.Data);
    expect(second.Data.PublicKeyPem).not.toBe(first.Data.PublicKeyPem);
    // The deployment fails later and rolls back: generation 1 gets its old properties back and
    // keeps its key, generation 2 is deleted.
    const firstRolledBack = await send(
      event('Update', {
        ...generation(1),
        PhysicalResourceId: first.PhysicalResourceId,
        OldResourceProperties: { ...GENERATION_1, ServiceToken: `${SERVICE_TOKEN}-v2` },
      }),
    );
    expect(firstRolledBack.Data).toEqual(first.Data);
    await send(event('Delete', { ...generation(2), PhysicalResourceId: second.PhysicalResourceId }));
    expect(secretsManager.secrets.has(second.PhysicalResourceId)).toBe(false);
    const firstSecret = secretsManager.secrets.get(first.PhysicalResourceId)!;
    expect(signs(firstSecret.secretString, first.Data.PublicKeyPem)).toBe(true);
    // Deployed again it succeeds, and once URLs of generation 1 have expired, generation 1 is retired.
    const secondAgain = await send(event('Create', generation(2)));
    await send(event('Delete', { ...generation(1), PhysicalResourceId: first.PhysicalResourceId }));
    expect(secretsManager.secrets.has(first.PhysicalResourceId)).toBe(false);
    const secondSecret = secretsManager.secrets.get(secondAgain.PhysicalResourceId)!;
    expect(signs(secondSecret.secretString, secondAgain.Data.PublicKeyPem)).toBe(true);
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

  test('a generation that is not a whole number from 1 fails with the property named', async () => {
    const before = secretsManager.secrets.size;
    const failed = await send(event('Create', { ResourceProperties: { Generation: '0' } }));
    expect(failed).toMatchObject({ Status: 'FAILED', Reason: 'Generation must be a whole number from 1' });
    expect(secretsManager.secrets.size).toBe(before);
  });

  test('a malformed secret name prefix fails with the property named', async () => {
    const failed = await send(
      event('Create', { ResourceProperties: { SecretNamePrefix: 'bad name with spaces' } }),
    );
    expect(failed.Status).toBe('FAILED');
    expect(failed.Reason).toMatch(/SecretNamePrefix/);
  });
});
