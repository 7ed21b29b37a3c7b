import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { generateKeyPairSync } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ImageUrlSigner, imageUrlSigner } from '../../lambda/delivery/image-url-signer';
import { SigningKey, signingKeyLookup } from '../../lambda/delivery/signing-key-lookup';
import { SIGNED_URLS } from '../../lambda/contracts/signed-urls';
import { LocalPlatform } from '../../local/local-platform';
import { startTestPlatform } from '../helpers/local-platform-fixture';

let platform: LocalPlatform;
let signer: ImageUrlSigner;
const savedEnv = { ...process.env };

const objects: Record<string, string> = {
  'images/abc/volume.mha': 'ObjectType = Image\nNDims = 3\n',
  'images/abc/tiles/0 0/tile é.jpg': 'tile bytes',
  'images/abcd/volume.mha': 'a sibling whose name starts like the prefix',
  'images/xyz/secret.mha': 'someone else',
};

beforeAll(async () => {
  platform = await startTestPlatform();
  // The test puts the objects as the operator; then it signs as the handler that signs URLs,
  // with the environment (and credentials) local mode gives that function.
  const s3 = new S3Client({ forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
  for (const [key, body] of Object.entries(objects)) {
    await s3.send(
      new PutObjectCommand({
        Bucket: platform.settings.imagingBucket,
        Key: key,
        Body: body,
        ContentType: 'application/octet-stream',
      }),
    );
  }
  s3.destroy();
  Object.assign(process.env, platform.environment, platform.functions.environments.get('images/get-image'));
  signer = imageUrlSigner();
});

afterAll(async () => {
  await platform.stop();
  process.env = savedEnv;
});

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  return { status: response.status, body: await response.text() };
}

function cookieHeader(cookies: Record<string, string>): string {
  return Object.entries(cookies)
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');
}

describe('signed URLs against the local CloudFront', () => {
  test('a signed URL fetches its object', async () => {
    const url = await signer.signedUrl('images/abc/volume.mha');
    expect(url.startsWith(`${platform.urls.cloudfront}/images/abc/volume.mha?`)).toBe(true);
    expect(await get(url)).toEqual({ status: 200, body: objects['images/abc/volume.mha'] });
  });

  test('keys with spaces and non-ASCII characters are encoded and signed', async () => {
    const url = await signer.signedUrl('images/abc/tiles/0 0/tile é.jpg');
    expect(url).toContain('/tiles/0%200/tile%20%C3%A9.jpg?');
    expect(await get(url)).toEqual({ status: 200, body: 'tile bytes' });
  });

  test('the URL expires after the default 300 seconds', async () => {
    const signedAt = Date.now() / 1000;
    const url = new URL(await signer.signedUrl('images/abc/volume.mha'));
    const expires = Number(url.searchParams.get('Expires'));
    expect(Math.abs(expires - (signedAt + 300))).toBeLessThan(2);
  });

  test('an expired URL gets 403', async () => {
    const expired = new ImageUrlSigner({ ...signedBy(await signerKey()), now: () => Date.now() - 600_000 });
    const response = await get(await expired.signedUrl('images/abc/volume.mha'));
    expect(response.status).toBe(403);
    expect(response.body).toContain('Request has expired');
  });

  test('a URL with a lengthened expiry gets 403', async () => {
    const url = new URL(await signer.signedUrl('images/abc/volume.mha'));
    url.searchParams.set('Expires', String(Number(url.searchParams.get('Expires')) + 3600));
    const response = await get(url.toString());
    expect(response.status).toBe(403);
    expect(response.body).toContain('Signature does not match');
  });

  test("a URL's signature does not open another object", async () => {
    const url = (await signer.signedUrl('images/abc/volume.mha')).replace('images/abc/', 'images/xyz/');
    expect((await get(url)).status).toBe(403);
  });

  test('an unsigned URL gets 403', async () => {
    const response = await get(`${platform.urls.cloudfront}/images/abc/volume.mha`);
    expect(response.status).toBe(403);
    expect(response.body).toContain('Missing Key-Pair-Id');
  });

  test('a URL signed by a key outside the trusted key group gets 403', async () => {
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const { keyPairId } = await signerKey();
    const forged = new ImageUrlSigner(signedBy({ keyPairId, privateKeyPem: privateKey, generation: 1 }));
    expect((await get(await forged.signedUrl('images/abc/volume.mha'))).status).toBe(403);
    const unknownId = new ImageUrlSigner(
      signedBy({ keyPairId: 'KUNKNOWNKEY123', privateKeyPem: privateKey, generation: 1 }),
    );
    const response = await get(await unknownId.signedUrl('images/abc/volume.mha'));
    expect(response.body).toContain('not in the trusted key group');
  });

  test('a signed URL for a missing object gets 403, as CloudFront with OAC answers', async () => {
    expect((await get(await signer.signedUrl('images/abc/missing.mha'))).status).toBe(403);
  });

  test('a byte range of a signed object comes back as 206', async () => {
    const response = await fetch(await signer.signedUrl('images/abc/volume.mha'), {
      headers: { range: 'bytes=0-9' },
    });
    expect(response.status).toBe(206);
    expect(await response.text()).toBe('ObjectType');
  });

  test('canned SHA-1 signatures, the CloudFront default, verify too', async () => {
    const key = await signerKey();
    const url = getSignedUrl({
      url: `${platform.urls.cloudfront}/images/abc/volume.mha`,
      keyPairId: key.keyPairId,
      privateKey: key.privateKeyPem,
      dateLessThan: new Date(Date.now() + 60_000),
    });
    expect(url).not.toContain('Hash-Algorithm');
    expect((await get(url)).status).toBe(200);
  });

  test('a custom policy limited to another source IP, or starting later, gets 403', async () => {
    const key = await signerKey();
    const base = {
      url: `${platform.urls.cloudfront}/images/abc/volume.mha`,
      keyPairId: key.keyPairId,
      privateKey: key.privateKeyPem,
      dateLessThan: new Date(Date.now() + 60_000),
    };
    expect((await get(getSignedUrl({ ...base, ipAddress: '127.0.0.1/32' }))).status).toBe(200);
    const otherIp = await get(getSignedUrl({ ...base, ipAddress: '192.0.2.0/24' }));
    expect(otherIp).toMatchObject({ status: 403, body: expect.stringContaining('Source IP') });
    const later = await get(getSignedUrl({ ...base, dateGreaterThan: new Date(Date.now() + 30_000) }));
    expect(later).toMatchObject({ status: 403, body: expect.stringContaining('not yet valid') });
  });
});

describe('signed cookies against the local CloudFront', () => {
  test('cookies for a prefix open every object under it', async () => {
    const cookies = cookieHeader(await signer.signedCookies('images/abc/'));
    expect(await get(`${platform.urls.cloudfront}/images/abc/volume.mha`, { cookie: cookies })).toMatchObject(
      {
        status: 200,
      },
    );
    const tile = await get(`${platform.urls.cloudfront}/images/abc/tiles/0%200/tile%20%C3%A9.jpg`, {
      cookie: cookies,
    });
    expect(tile).toEqual({ status: 200, body: 'tile bytes' });
  });

  test('cookies for a prefix open nothing outside it, not even a sibling with a longer name', async () => {
    const cookies = cookieHeader(await signer.signedCookies('images/abc/'));
    for (const key of ['images/xyz/secret.mha', 'images/abcd/volume.mha']) {
      expect((await get(`${platform.urls.cloudfront}/${key}`, { cookie: cookies })).status).toBe(403);
    }
  });

  test('an encoded dot segment under a cookie prefix reaches nothing outside it', async () => {
    const cookies = cookieHeader(await signer.signedCookies('images/abc/'));
    const escape = await get(`${platform.urls.cloudfront}/images/abc/..%2F..%2Fimages%2Fxyz%2Fsecret.mha`, {
      cookie: cookies,
    });
    expect(escape.status).toBe(403);
  });

  test('expired cookies get 403', async () => {
    const past = new ImageUrlSigner({ ...signedBy(await signerKey()), now: () => Date.now() - 600_000 });
    const response = await get(`${platform.urls.cloudfront}/images/abc/volume.mha`, {
      cookie: cookieHeader(await past.signedCookies('images/abc/')),
    });
    expect(response).toMatchObject({ status: 403, body: expect.stringContaining('expired') });
  });

  test('a cookie policy edited to a wider prefix gets 403', async () => {
    const cookies = await signer.signedCookies('images/abc/');
    const policy = Buffer.from(
      cookies['CloudFront-Policy'].replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'),
      'base64',
    )
      .toString('utf8')
      .replace('images/abc/*', 'images/*');
    const widened = Buffer.from(policy)
      .toString('base64')
      .replace(/\+/g, '-')
      .replace(/=/g, '_')
      .replace(/\//g, '~');
    const response = await get(`${platform.urls.cloudfront}/images/xyz/secret.mha`, {
      cookie: cookieHeader({ ...cookies, 'CloudFront-Policy': widened }),
    });
    expect(response.status).toBe(403);
  });
});

describe('image URL signer', () => {
  test('refuses a prefix without a trailing slash, an absolute key and a bad expiry', async () => {
    await expect(signer.signedCookies('images/abc')).rejects.toThrow('prefix must end with "/"');
    await expect(signer.signedUrl('/images/abc/volume.mha')).rejects.toThrow('object key must be relative');
    await expect(signer.signedUrl('images/abc/volume.mha', { expiresInSeconds: 0 })).rejects.toThrow(
      'expiresInSeconds must be a positive whole number',
    );
  });

  test('from the environment, it names each missing variable', () => {
    expect(() =>
      SIGNED_URLS.parse({ IMAGES_BASE_URL: 'https://d1.cloudfront.net', SIGNED_URL_SECONDS: '300' }),
    ).toThrow('image URL signing cannot be read: CURRENT_SIGNING_KEY_SECRET_ARN is not set');
  });
});

/** The local key pair that signs now, found the way a handler finds it: through Secrets Manager. */
async function signerKey(): Promise<SigningKey> {
  const client = new SecretsManagerClient({});
  try {
    return await signingKeyLookup({
      secretsManager: client,
      currentKeySecretId: platform.settings.currentSigningKeySecretArn,
    })();
  } finally {
    client.destroy();
  }
}

function signedBy(key: SigningKey) {
  return { baseUrl: platform.settings.imagesBaseUrl, signingKey: async () => key };
}
