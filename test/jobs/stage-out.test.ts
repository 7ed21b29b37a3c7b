import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunnerRefusal } from '../../containers/jobs/runner/runner-refusal';
import { stageOut } from '../../containers/jobs/runner/stage-out';
import { EmbeddedS3, startS3 } from '../helpers/embedded-s3';

// How the job runner stores /output: each file streamed from disk, in parts when larger than one.
const BUCKET = 'runner-outputs';
const MiB = 1024 ** 2;
const JOB = '0b5e7c1e-8d0a-4a57-9d3c-5f0e2f6f4b11';

const LIMITS = { outputFilesPerImageFolder: 1000, outputFiles: 10_000, outputBytes: 1024 * MiB };

let local: EmbeddedS3;
let dataDir: string;
let s3: S3Client;
/** The commands the client sent, in order. */
let sent: string[];

beforeAll(async () => {
  local = await startS3(BUCKET);
  ({ dataDir, s3, sent } = local);
});

afterAll(() => local.stop());

test('an output larger than one part is stored in parts, with the hash of what was read', async () => {
  const outputDir = fs.mkdtempSync(path.join(dataDir, 'output-'));
  const large = randomBytes(11 * MiB + 7);
  fs.mkdirSync(path.join(outputDir, 'images', 'mask'), { recursive: true });
  fs.writeFileSync(path.join(outputDir, 'images', 'mask', 'mask.mha'), large);
  fs.writeFileSync(path.join(outputDir, 'results.json'), '{"ok":true}');
  sent.length = 0;

  const { outputs } = await stageOut(s3, BUCKET, JOB, outputDir, LIMITS, { partBytes: 5 * MiB });

  expect(sent.filter((name) => name === 'UploadPart')).toHaveLength(3);
  expect(sent.filter((name) => name === 'PutObject')).toHaveLength(1);
  const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
  expect(outputs.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
    {
      path: 'images/mask/mask.mha',
      key: expect.stringMatching(new RegExp(`^jobs/${JOB}/outputs/[01]$`)),
      bytes: large.length,
      sha256: sha256(large),
    },
    {
      path: 'results.json',
      key: expect.stringMatching(new RegExp(`^jobs/${JOB}/outputs/[01]$`)),
      bytes: 11,
      sha256: sha256('{"ok":true}'),
    },
  ]);
  // Keyed by position, not by the names the algorithm chose.
  expect(new Set(outputs.map((o) => o.key)).size).toBe(2);
  const stored = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: outputs[0].key }));
  expect(sha256(Buffer.from(await stored.Body!.transformToByteArray()))).toBe(sha256(large));
});

describe('each limit on /output refuses the whole output, naming the limit and its configuration key', () => {
  /** An output folder with `count` small files under `folder`, and results.json. */
  function outputWith(folder: string, count: number): string {
    const outputDir = fs.mkdtempSync(path.join(dataDir, 'output-'));
    fs.mkdirSync(path.join(outputDir, folder), { recursive: true });
    for (let i = 0; i < count; i++) fs.writeFileSync(path.join(outputDir, folder, `slice-${i}.txt`), 'x');
    fs.writeFileSync(path.join(outputDir, 'results.json'), '{}');
    return outputDir;
  }
  const mask = [{ slug: 'mask', relativePath: 'images/mask' }];

  test("files in one image output's folder, as grand-challenge limits them", async () => {
    sent.length = 0;
    const refused = stageOut(
      s3,
      BUCKET,
      JOB,
      outputWith('images/mask/parts', 4),
      {
        ...LIMITS,
        outputFilesPerImageFolder: 3,
      },
      { imageOutputs: mask },
    );
    await expect(refused).rejects.toThrow(RunnerRefusal);
    await expect(refused).rejects.toThrow(
      'output "mask" (/output/images/mask) holds 4 files, more than the 3 an image output\'s folder may hold (limits.outputFilesPerImageFolder); nothing was stored',
    );
    expect(sent).toEqual([]);
  });

  test('the same files outside an image output are stored', async () => {
    const { outputs } = await stageOut(
      s3,
      BUCKET,
      JOB,
      outputWith('slices', 4),
      {
        ...LIMITS,
        outputFilesPerImageFolder: 3,
      },
      { imageOutputs: mask },
    );
    expect(outputs).toHaveLength(5);
  });

  test('files in all', async () => {
    sent.length = 0;
    const refused = stageOut(s3, BUCKET, JOB, outputWith('slices', 4), { ...LIMITS, outputFiles: 4 });
    await expect(refused).rejects.toThrow(
      'the algorithm wrote more than 4 files to /output, the most a job may store (limits.outputFiles); nothing was stored',
    );
    expect(sent).toEqual([]);
  });

  test('bytes in all', async () => {
    const refused = stageOut(s3, BUCKET, JOB, outputWith('slices', 4), { ...LIMITS, outputBytes: 3 });
    await expect(refused).rejects.toThrow(
      'the algorithm wrote more than 3 bytes to /output, the most a job may store (limits.outputBytes); nothing was stored',
    );
  });
});
