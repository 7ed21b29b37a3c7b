import {
  BatchGetImageCommand,
  DescribeImageScanFindingsCommand,
  ECRClient,
  GetDownloadUrlForLayerCommand,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { checkEcrImage } from '../../lambda/algorithms/ecr-image';

// ECR has no local server: its API is mocked, and the configuration blob is served over HTTP
// from this process, as ECR's presigned layer URLs serve it.
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const IMAGE = `123456789012.dkr.ecr.eu-central-1.amazonaws.com/segmenter@${digest(1)}`;
const ecr = mockClient(ECRClient);
let server: http.Server;
let blobs: Record<string, unknown>;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const blob = blobs[req.url!.slice(1)];
    if (blob === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(blob));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

/** The configuration of an image with the runner layered on, recording the author's USER. */
const runnable = (authorUser: string, architecture = 'amd64') => ({
  os: 'linux',
  architecture,
  config: { User: '0:0', Env: ['PATH=/usr/bin', `ALGORITHM_USER=${authorUser}`] },
});

/** ECR holding one image: its manifest (or index), its configuration, and its scan. */
function registry(options: {
  config?: Record<string, unknown>;
  index?: { os: string; architecture: string }[];
  scan?: { status: string; critical?: number };
}) {
  ecr.reset();
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  blobs = {
    [digest(100)]: options.config ?? runnable('user'),
  };
  const manifest = {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { digest: digest(100) },
  };
  ecr.on(BatchGetImageCommand).callsFake((input) => {
    const wanted = input.imageIds[0].imageDigest;
    if (options.index && wanted === digest(1)) {
      const index = {
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: options.index.map((platform, i) => ({ digest: digest(10 + i), platform })),
      };
      return { images: [{ imageManifest: JSON.stringify(index) }], failures: [] };
    }
    if (wanted === digest(1) || (options.index && wanted === digest(10))) {
      return { images: [{ imageManifest: JSON.stringify(manifest) }], failures: [] };
    }
    return {
      images: [],
      failures: [{ failureCode: 'ImageNotFound', failureReason: 'Requested image not found' }],
    };
  });
  ecr
    .on(GetDownloadUrlForLayerCommand)
    .callsFake((input) => ({ downloadUrl: `${url}/${input.layerDigest}` }));
  ecr.on(DescribeImageScanFindingsCommand).resolves({
    imageScanStatus: { status: (options.scan?.status ?? 'COMPLETE') as 'COMPLETE' },
    imageScanFindings: { findingSeverityCounts: { CRITICAL: options.scan?.critical ?? 0, HIGH: 2 } },
  });
}

const check = (image = IMAGE, allowCritical = false) => checkEcrImage(image, 'body.image', { allowCritical });

describe('an ECR image is checked before its version becomes active', () => {
  test('an amd64 image with a non-root user and a clean finished scan passes', async () => {
    registry({});
    await expect(check()).resolves.toBeUndefined();
  });

  test('an image labelled with the exec api method, as grand-challenge runs by default, passes', async () => {
    registry({
      config: {
        ...runnable('user'),
        config: { ...runnable('user').config, Labels: { 'org.grand-challenge.api-method': 'exec' } },
      },
    });
    await expect(check()).resolves.toBeUndefined();
  });

  test('an index is followed to its linux/amd64 image', async () => {
    registry({
      index: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
    });
    await expect(check()).resolves.toBeUndefined();
  });

  test.each([
    [
      'an image that is not there',
      { image: IMAGE.replace(digest(1), digest(2)) },
      /does not exist in ECR \(Requested image not found\)/,
    ],
    [
      'an index without linux/amd64',
      { index: [{ os: 'linux', architecture: 'arm64' }] },
      /has no linux\/amd64 image \(it has linux\/arm64\)/,
    ],
    [
      'an image built for arm64',
      { config: runnable('user', 'arm64') },
      /is built for linux\/arm64; algorithms run on linux\/amd64/,
    ],
    ['an image whose author set no USER', { config: runnable('') }, /runs as root \(USER is not set\)/],
    ['an image whose author USER is 0:0', { config: runnable('0:0') }, /runs as root \(USER is "0:0"\)/],
    [
      'an invoke-mode image (a server answering /invoke)',
      {
        config: {
          ...runnable('user'),
          config: { ...runnable('user').config, Labels: { 'org.grand-challenge.api-method': 'invoke' } },
        },
      },
      /is an invoke-mode image .*which this platform does not run.*Build it without that label/,
    ],
    [
      'an invoke-mode image labelled in another case, with quotes',
      {
        config: {
          ...runnable('user'),
          config: { ...runnable('user').config, Labels: { 'Org.Grand-Challenge.API-Method': '"Invoke"' } },
        },
      },
      /is an invoke-mode image/,
    ],
    [
      'an image whose api-method label is neither exec nor invoke',
      {
        config: {
          ...runnable('user'),
          config: { ...runnable('user').config, Labels: { 'org.grand-challenge.api-method': 'serve' } },
        },
      },
      /has LABEL org\.grand-challenge\.api-method="serve"; its value must be "exec"/,
    ],
    [
      "an author's image without the runner layer",
      { config: { os: 'linux', architecture: 'amd64', config: { User: 'user' } } },
      /has no job runner layer; the platform's build adds it/,
    ],
    [
      'a scan still running',
      { scan: { status: 'IN_PROGRESS' } },
      /has no finished vulnerability scan \(IN_PROGRESS\)/,
    ],
    [
      'critical findings',
      { scan: { status: 'COMPLETE', critical: 3 } },
      /has 3 critical vulnerabilities in its scan/,
    ],
  ])('%s is refused, naming the check', async (_, options, reason) => {
    const { image, ...rest } = options as { image?: string };
    registry(rest);
    await expect(check(image)).rejects.toThrow(reason);
  });

  test('critical findings pass where the platform allows them', async () => {
    registry({ scan: { status: 'COMPLETE', critical: 3 } });
    await expect(check(IMAGE, true)).resolves.toBeUndefined();
  });

  test('an image that is not in ECR by digest is refused before anything is asked', async () => {
    ecr.reset();
    await expect(check('docker.io/library/python:3.12')).rejects.toThrow(/is not an ECR image by digest/);
    expect(ecr.calls()).toHaveLength(0);
  });
});
