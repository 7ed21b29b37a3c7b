import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { LocalPlatform } from '../../local/local-platform';
import { apiClient } from '../helpers/api-client';
import { completedUpload, settledImage, SMALL_CT } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';

// What local mode's functions log, read as their log groups would show it: each line carries the
// keys of its own invocation only, whatever ran before it or beside it.

const MiB = 1024 ** 2;
let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let lines: Record<string, unknown>[];
let spies: jest.SpyInstance[];
const logLevel = process.env.POWERTOOLS_LOG_LEVEL;

beforeAll(async () => {
  // The functions' lines at INFO, as deployed; their sandboxes' output reaches this process's.
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  lines = [];
  spies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      for (const line of String(chunk).split('\n')) {
        if (line.startsWith('{')) lines.push(JSON.parse(line));
      }
      return true;
    }),
  );
  // Sets over 1 MiB go to the converter container, smaller ones to the converter function.
  platform = await startTestPlatform({}, { conversion: { lambdaMaxSetBytes: MiB } });
  call = apiClient(platform.urls.api);
}, 60_000);

afterAll(async () => {
  await platform?.stop();
  spies?.forEach((spy) => spy.mockRestore());
  process.env.POWERTOOLS_LOG_LEVEL = logLevel;
});

/** A 120 x 100 x 100 int8 volume as .mha: 1.2 MB, over the converter function's bound. */
function largeMha(): Buffer {
  return Buffer.concat([
    Buffer.from(
      'ObjectType = Image\nNDims = 3\nDimSize = 120 100 100\nElementSpacing = 1 1 1\nElementType = MET_CHAR\nElementDataFile = LOCAL\n',
    ),
    Buffer.alloc(120 * 100 * 100, 3),
  ]);
}

/** Makes an image of `content`, reading it over and over while it converts; the image once settled. */
async function convertWhilePolled(filename: string, content: Buffer) {
  const upload = await completedUpload(call, 'dev-alice', filename, content);
  const created = await call('POST', '/v1/images', { token: 'dev-alice', body: { uploads: [upload] } });
  expect(created.status).toBe(201);
  const image = await settledImage(call, 'dev-alice', created.body.id);
  await platform.batch.settled();
  return image;
}

test('the converter function logs a conversion polled through the API with none of the API keys', async () => {
  const image = await convertWhilePolled('ct.mha', SMALL_CT);
  expect(image.status).toBe('Succeeded');

  const converted = lines.filter((line) => line.message === 'image converted' && line.imageId === image.id);
  expect(converted).toHaveLength(1);
  expect(converted[0]).toMatchObject({ service: 'convert-image' });
  for (const line of lines.filter((l) => l.service === 'convert-image')) {
    expect(line).not.toHaveProperty('operationId');
    expect(line).not.toHaveProperty('userId');
  }
});

test('the converter container logs a conversion polled through the API with none of the API keys', async () => {
  const image = await convertWhilePolled('large.mha', largeMha());
  expect(image.status).toBe('Succeeded');

  const logDir = path.join(platform.dataDir, 'logs', 'image-converter');
  const logged = fs
    .readdirSync(logDir)
    .flatMap((file) => fs.readFileSync(path.join(logDir, file), 'utf8').split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(
    logged.filter((line) => line.message === 'image converted' && line.imageId === image.id),
  ).toHaveLength(1);
  for (const line of logged) {
    expect(line).not.toHaveProperty('operationId');
    expect(line).not.toHaveProperty('userId');
  }
});

test('requests served at once log each with its own caller and request id', async () => {
  // Lambda gives each concurrent request an execution environment of its own; so does local mode.
  const users = ['dev-alice', 'dev-bob', 'dev-carol', 'dev-alice', 'dev-bob', 'dev-carol'];
  const asked = users.map((token) => ({ token, imageId: randomUUID() }));
  const answers = await Promise.all(
    asked.map(({ token, imageId }) => call('GET', '/v1/images/{imageId}', { token, params: { imageId } })),
  );
  expect(answers.map((a) => a.status)).toEqual(users.map(() => 404));

  const subs = Object.fromEntries(platform.devUsers.map((user) => [user.token, user.claims.sub]));
  const requestIds = new Set<unknown>();
  for (const { token, imageId } of asked) {
    const refused = lines.filter(
      (line) => line.message === 'request refused' && String(line.reason).includes(imageId),
    );
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ operationId: 'getImage', userId: subs[token] });
    requestIds.add(refused[0].requestId);
  }
  expect(requestIds.size).toBe(asked.length);
});
