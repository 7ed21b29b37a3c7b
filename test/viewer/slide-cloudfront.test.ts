import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import sharp from 'sharp';
import { openSlide } from '../../containers/viewer/server/slides';
import { ImageUrlSigner } from '../../lambda/delivery/image-url-signer';
import { startCloudFrontStandIn } from '../../local/services/cloudfront';
import { RunningService } from '../../local/services/running-service';
import { EmbeddedS3, startS3 } from '../helpers/embedded-s3';
import { freePorts } from '../helpers/free-ports';
import { blockColour, photographicSlide } from './slide-fixtures';

/**
 * The slide as the viewer reads it in local mode: stored in the imaging bucket (s3rver), read
 * only through a signed URL of the CloudFront stand-in, with range requests.
 */

const BUCKET = 'imaging-bucket';
const KEY = 'images/abc/slide.tif';

let s3: EmbeddedS3;
let cloudfront: RunningService;
let signer: ImageUrlSigner;

beforeAll(async () => {
  const [slide, [port]] = await Promise.all([photographicSlide(), freePorts(1)]);
  s3 = await startS3(BUCKET);
  await s3.s3.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: slide, ContentType: 'image/tiff' }),
  );
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  cloudfront = await startCloudFrontStandIn({
    host: '127.0.0.1',
    port,
    baseUrl,
    trustedKeys: new Map([['KSLIDEVIEWER1', createPublicKey(publicKey)]]),
    s3: s3.s3,
    bucketName: BUCKET,
  });
  signer = new ImageUrlSigner({
    baseUrl,
    signingKey: async () => ({ keyPairId: 'KSLIDEVIEWER1', privateKeyPem: privateKey, generation: 1 }),
  });
});

afterAll(async () => {
  await cloudfront?.stop();
  await s3?.stop();
});

test('a slide opens through its signed URL and its tiles come through as the file stores them', async () => {
  const slide = await openSlide(await signer.signedUrl(KEY));
  expect(slide.levels.map((l) => [l.width, l.height])).toEqual([
    [1500, 1000],
    [750, 500],
    [375, 250],
    [187, 125],
  ]);
  expect(slide.micronsPerPixel).toBeCloseTo(0.5, 9);
  const tile = await slide.tile(0, 5, 3);
  expect(tile.contentType).toBe('image/jpeg');
  const pixels = await sharp(tile.body).raw().toBuffer();
  const at = ((950 - 768) * 256 + (1450 - 1280)) * 3;
  const expected = blockColour(1450, 950);
  for (let c = 0; c < 3; c++) expect(Math.abs(pixels[at + c] - expected[c])).toBeLessThanOrEqual(3);
  expect(s3.sent.filter((command) => command !== 'GetObject' && command !== 'PutObject')).toEqual([]);
});

test('a tampered signature is refused, and the reason does not repeat the URL', async () => {
  const signed = await signer.signedUrl(KEY);
  const tampered = signed.replace(
    /Signature=([A-Za-z0-9])/,
    (_, c: string) => `Signature=${c === 'A' ? 'B' : 'A'}`,
  );
  expect(tampered).not.toBe(signed);
  const refusal = await openSlide(tampered).catch((err: Error) => err);
  expect(refusal).toMatchObject({ message: "the slide's server refused the read (HTTP 403)", status: 502 });
  expect(String((refusal as Error).stack)).not.toContain('Signature=');
});
