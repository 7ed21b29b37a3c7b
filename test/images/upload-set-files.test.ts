import { PutObjectCommand } from '@aws-sdk/client-s3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { s3 } from '../../lambda/core/aws-clients';
import { downloadUploadSet } from '../../lambda/images/upload-set-files';
import { LocalPlatform } from '../../local/local-platform';
import { startTestPlatform } from '../helpers/local-platform-fixture';

let platform: LocalPlatform;
let bucket: string;
const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'upload-set-'));

beforeAll(async () => {
  platform = await startTestPlatform();
  bucket = platform.settings.imagingBucket;
});

afterAll(async () => {
  fs.rmSync(folder, { recursive: true, force: true });
  await platform.stop();
});

/** Stored objects, each its own content, under keys unlike the names the user gave them. */
async function stored(count: number, prefix: string) {
  const files = Array.from({ length: count }, (_, i) => ({
    filename: `slice ${i}.dcm`,
    objectKey: `uploads/test/${prefix}-${i}`,
    content: Buffer.alloc(1000 + i, i % 256),
  }));
  for (const f of files) {
    await s3().send(new PutObjectCommand({ Bucket: bucket, Key: f.objectKey, Body: f.content }));
  }
  return files;
}

describe('an upload set downloaded for conversion', () => {
  test('comes down several files at a time, each whole, in the order of the set', async () => {
    const files = await stored(40, 'many');
    const client = s3();
    const send = client.send.bind(client);
    let inFlight = 0;
    let most = 0;
    const spy = jest.spyOn(client, 'send').mockImplementation((async (command: never) => {
      most = Math.max(most, ++inFlight);
      try {
        return await send(command);
      } finally {
        inFlight--;
      }
    }) as never);
    try {
      const inputs = await downloadUploadSet(files, bucket, fs.mkdtempSync(path.join(folder, 'set-')));
      expect(inputs.map((f) => f.name)).toEqual(files.map((f) => f.filename));
      inputs.forEach((input, i) => expect(input.load().equals(files[i].content)).toBe(true));
    } finally {
      spy.mockRestore();
    }
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(16);
  });

  test('a missing object fails the download after those under way have ended', async () => {
    const files = await stored(20, 'gap');
    const target = fs.mkdtempSync(path.join(folder, 'set-'));
    const missing = [
      ...files.slice(0, 3),
      { filename: 'gone.dcm', objectKey: 'uploads/test/none' },
      ...files.slice(3),
    ];
    await expect(downloadUploadSet(missing, bucket, target)).rejects.toThrow(/key does not exist/i);
    // Nothing is left writing: the folder holds what it holds now, and stays so.
    const now = fs.readdirSync(target).sort();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(fs.readdirSync(target).sort()).toEqual(now);
    expect(now.length).toBeLessThan(missing.length);
  });
});
