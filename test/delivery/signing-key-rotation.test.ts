import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ImageUrlSigner } from '../../lambda/delivery/image-url-signer';
import { signingKeyLookup } from '../../lambda/delivery/signing-key-lookup';
import { SIGNING_KEY_CACHE_SECONDS } from '../../lambda/contracts/current-signing-key';
import { SIGNED_URLS } from '../../lambda/contracts/signed-urls';
import { LocalPlatform } from '../../local/local-platform';
import { apiClient } from '../helpers/api-client';
import { completedUpload, settledImage } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';

// A rotation as local mode deploys it, seen by a signer built as `imageUrlSigner()` builds it,
// from the environment of a handler that signs, with a clock the test moves.
let platform: LocalPlatform;
let secretsManager: SecretsManagerClient;
let settings: ReturnType<typeof SIGNED_URLS.parse>;
let environmentAtStart: Readonly<Record<string, string>>;
let keyPairIdAtStart: string;
const savedEnv = { ...process.env };
const OBJECT = 'images/rotation/volume.mha';

beforeAll(async () => {
  platform = await startTestPlatform();
  environmentAtStart = { ...platform.functions.environments.get('images/get-image')! };
  settings = SIGNED_URLS.parse(environmentAtStart);
  keyPairIdAtStart = platform.signingKeys.current().keyPairId;
  secretsManager = new SecretsManagerClient({});
  const s3 = new S3Client({ forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
  await s3.send(new PutObjectCommand({ Bucket: platform.settings.imagingBucket, Key: OBJECT, Body: 'x' }));
  s3.destroy();
});

afterAll(async () => {
  secretsManager.destroy();
  await platform.stop();
  process.env = savedEnv;
});

/** A handler's signer, as `imageUrlSigner()` makes it, on a clock of the test's. */
function handlerSigner(clock: { now: number }, client: SecretsManagerClient = secretsManager) {
  return new ImageUrlSigner({
    baseUrl: settings.imagesBaseUrl,
    signingKey: signingKeyLookup({
      secretsManager: client,
      currentKeySecretId: settings.currentSigningKeySecretArn,
      now: () => clock.now,
    }),
    now: () => clock.now,
  });
}

const keyPairIdOf = (url: string) => new URL(url).searchParams.get('Key-Pair-Id');
async function statusOf(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.text() };
}

/** A client whose reads of Secrets Manager are counted, and fail while `failing` says so. */
function countingClient() {
  const counted = { reads: 0, failing: false };
  const client = new SecretsManagerClient({});
  client.middlewareStack.add(
    (next) => async (args) => {
      counted.reads++;
      if (counted.failing) throw new Error('throttled');
      return next(args);
    },
    { step: 'initialize' },
  );
  return { counted, client };
}

describe('the signer finds the current key pair at run time', () => {
  test('it reads the secret again once its cache has expired, and concurrent signatures share one read', async () => {
    const clock = { now: Date.now() };
    const { counted, client } = countingClient();
    const signer = handlerSigner(clock, client);
    await Promise.all([signer.signedUrl(OBJECT), signer.signedUrl(OBJECT), signer.signedCookies('images/')]);
    // The secret that names the key pair, then the private key of that generation.
    expect(counted.reads).toBe(2);
    clock.now += (SIGNING_KEY_CACHE_SECONDS - 1) * 1000;
    await signer.signedUrl(OBJECT);
    expect(counted.reads).toBe(2);
    clock.now += 1000;
    await signer.signedUrl(OBJECT);
    // The key pair has not changed: only the naming secret is read again.
    expect(counted.reads).toBe(3);
    client.destroy();
  });

  test('a failed read is not kept: the next signature tries again', async () => {
    const { counted, client } = countingClient();
    const signer = handlerSigner({ now: Date.now() }, client);
    counted.failing = true;
    await expect(signer.signedUrl(OBJECT)).rejects.toThrow('throttled');
    counted.failing = false;
    expect((await statusOf(await signer.signedUrl(OBJECT))).status).toBe(200);
    client.destroy();
  });

  test('a secret that names no key pair is refused, naming the secret and what is wrong', async () => {
    await secretsManager.send(
      new CreateSecretCommand({ Name: 'local/not-a-current-key', SecretString: '{"keyPairId":"k1"}' }),
    );
    const signer = new ImageUrlSigner({
      baseUrl: settings.imagesBaseUrl,
      signingKey: signingKeyLookup({ secretsManager, currentKeySecretId: 'local/not-a-current-key' }),
    });
    await expect(signer.signedUrl(OBJECT)).rejects.toThrow(
      'secret local/not-a-current-key: keyPairId must be a CloudFront public key id; privateKeySecretArn must be a secret ARN; generation must be a whole number from 1',
    );
  });
});

describe('a rotation reaches the signer while URLs of the old key pair keep working', () => {
  test('the old key pair signs until the cache expires, the new one after; both verify during the overlap, the old one not once retired', async () => {
    const clock = { now: Date.now() };
    const signer = handlerSigner(clock);
    const before = await signer.signedUrl(OBJECT);
    const oldKeyPairId = keyPairIdOf(before);
    expect(oldKeyPairId).toBe(platform.signingKeys.current().keyPairId);

    // The rotation's deployment: a new key pair, trusted beside the old, named as current last.
    const generation = platform.signingKeys.current().generation;
    platform.signingKeys.deploy({
      urlSigningKeyGeneration: generation + 1,
      urlSigningKeyRetiredGeneration: generation - 1,
    });
    const newKeyPairId = platform.signingKeys.current().keyPairId;
    expect(newKeyPairId).not.toBe(oldKeyPairId);
    expect([...platform.signingKeys.trustedKeys.keys()]).toEqual([oldKeyPairId, newKeyPairId]);

    // A warm signer goes on with the key pair it read, which the key group still trusts.
    clock.now += (SIGNING_KEY_CACHE_SECONDS - 1) * 1000;
    const stillOld = await signer.signedUrl(OBJECT);
    expect(keyPairIdOf(stillOld)).toBe(oldKeyPairId);
    clock.now += 1000;
    const rotated = await signer.signedUrl(OBJECT);
    expect(keyPairIdOf(rotated)).toBe(newKeyPairId);
    for (const url of [before, stillOld, rotated]) expect((await statusOf(url)).status).toBe(200);
    // Its environment told it nothing of this.
    expect(platform.functions.environments.get('images/get-image')).toEqual(environmentAtStart);

    // Retired once URLs of the old key pair have expired: they no longer open anything.
    platform.signingKeys.deploy({
      urlSigningKeyGeneration: generation + 1,
      urlSigningKeyRetiredGeneration: generation,
    });
    expect(await statusOf(before)).toEqual({
      status: 403,
      body: expect.stringContaining(`Key-Pair-Id ${oldKeyPairId} is not in the trusted key group`),
    });
    expect((await statusOf(rotated)).status).toBe(200);
    expect((await statusOf(await signer.signedUrl(OBJECT))).status).toBe(200);
  });

  test('a rolled-back rotation: the signer returns to the key pair the key group still trusts, and no key pair is made', async () => {
    const clock = { now: Date.now() };
    const signer = handlerSigner(clock);
    const trusted = platform.signingKeys.current();
    const before = await signer.signedUrl(OBJECT);
    const rotation = {
      urlSigningKeyGeneration: trusted.generation + 1,
      urlSigningKeyRetiredGeneration: trusted.generation - 1,
    };
    const rolledBack = {
      urlSigningKeyGeneration: trusted.generation,
      urlSigningKeyRetiredGeneration: trusted.generation - 1,
    };
    platform.signingKeys.deploy(rotation);
    const abandoned = platform.signingKeys.current();
    clock.now += SIGNING_KEY_CACHE_SECONDS * 1000;
    expect(keyPairIdOf(await signer.signedUrl(OBJECT))).toBe(abandoned.keyPairId);

    platform.signingKeys.deploy(rolledBack);
    expect(platform.signingKeys.current()).toEqual(trusted);
    expect([...platform.signingKeys.trustedKeys.keys()]).toEqual([trusted.keyPairId]);
    clock.now += SIGNING_KEY_CACHE_SECONDS * 1000;
    const after = await signer.signedUrl(OBJECT);
    expect(keyPairIdOf(after)).toBe(trusted.keyPairId);
    for (const url of [before, after]) expect((await statusOf(url)).status).toBe(200);
    // The abandoned key pair's secret is gone with it.
    await expect(
      secretsManager.send(new GetSecretValueCommand({ SecretId: abandoned.privateKeySecretArn })),
    ).rejects.toThrow(/can't find the specified secret/);
  });

  test('a handler in its sandbox signs with the key pair the secret names now, though its environment was made before any rotation', async () => {
    expect(platform.signingKeys.current().keyPairId).not.toBe(keyPairIdAtStart);
    const call = apiClient(platform.urls.api);
    const upload = await completedUpload(call, 'dev-alice', 'tiny.mha', MHA_2X2);
    const created = await call('POST', '/v1/images', { token: 'dev-alice', body: { uploads: [upload] } });
    const done = await settledImage(call, 'dev-alice', created.body.id);
    expect(done.status).toBe('Succeeded');
    expect(keyPairIdOf(done.downloadUrl)).toBe(platform.signingKeys.current().keyPairId);
    expect((await statusOf(done.downloadUrl)).status).toBe(200);
  });
});

const MHA_2X2 = Buffer.concat([
  Buffer.from(
    'ObjectType = Image\nNDims = 2\nDimSize = 2 2\nElementSpacing = 0.5 0.5\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n',
  ),
  Buffer.from([0, 1, 2, 3]),
]);
