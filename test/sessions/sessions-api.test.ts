import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  SessionCredential,
  signSessionCredential,
  verifySessionCredential,
} from '../../lambda/contracts/session-credential';
import { LocalPlatform } from '../../local/local-platform';
import { ApiCallResult, apiClient, checkAnswer } from '../helpers/api-client';
import { convertedImage } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';

let platform: LocalPlatform;
let call: ReturnType<typeof apiClient>;
let documents: DynamoDBDocumentClient;
let s3: S3Client;
let sub: Record<string, string>;
const alice = 'dev-alice';
const bob = 'dev-bob';
/** Alice's converted CT and a mask of hers, and Bob's CT. */
let ct: string;
let mask: string;
let bobsCt: string;
/** Sessions each test started, stopped after it so that the next one starts with free slots. */
const started: { token: string; id: string }[] = [];

beforeAll(async () => {
  platform = await startTestPlatform({ viewerSessionsPerUser: 2, viewerSessionsPerRegion: 3 });
  call = apiClient(platform.urls.api);
  documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  s3 = new S3Client({ forcePathStyle: true });
  sub = Object.fromEntries(platform.devUsers.map((u) => [u.token, u.claims.sub]));
  // One image through the converter; the others as the converter leaves them, which is quicker.
  [ct, mask, bobsCt] = await Promise.all([
    convertedImage(call, alice),
    storedImage(alice, 'mask.mha'),
    storedImage(bob, 'ct.mha'),
  ]);
}, 120_000);

/** An image of `token`'s user as the converter leaves it: its record and its converted file. */
async function storedImage(token: string, name: string): Promise<string> {
  const id = randomUUID();
  const now = new Date().toISOString();
  const outputKey = `images/${id}/${id}${path.extname(name)}`;
  await s3.send(
    new PutObjectCommand({
      Bucket: platform.settings.imagingBucket,
      Key: outputKey,
      Body: `${name} of ${id}`,
    }),
  );
  await documents.send(
    new PutCommand({
      TableName: platform.settings.imagesTable,
      Item: {
        ...{ id, owner: sub[token], name, status: 'Succeeded', statusDetail: 'Converted' },
        ...{ files: [], errors: [], metadata: {}, outputKey, createdAt: now, updatedAt: now },
      },
    }),
  );
  return id;
}

afterEach(async () => {
  for (const { token, id } of started.splice(0)) {
    await call('DELETE', '/v1/sessions/{sessionId}', { token, params: { sessionId: id } });
  }
});

afterAll(async () => {
  documents.destroy();
  s3.destroy();
  await platform.stop();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);
const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

async function createSession(token: string, body: object) {
  const created = await call('POST', '/v1/sessions', { token, body });
  if (created.status === 201) started.push({ token, id: created.body.id });
  return created;
}

function verified(credential: string, sessionId: string): SessionCredential {
  return verifySessionCredential(credential, platform.sessionPublicKeyPem, { sessionId });
}

const getSession = (token: string, sessionId: string) =>
  call('GET', '/v1/sessions/{sessionId}', { token, params: { sessionId } });

/** A viewer's report, with its credential or none; the answer checked against the document. */
async function report(
  sessionId: string,
  credential: string | undefined,
  body: object,
): Promise<ApiCallResult> {
  const response = await fetch(`${platform.urls.api}/v1/sessions/${sessionId}/viewer-report`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(credential !== undefined && { authorization: `Bearer ${credential}` }),
    },
    body: JSON.stringify(body),
  });
  const answer = { status: response.status, body: await response.json() };
  checkAnswer('POST', '/v1/sessions/{sessionId}/viewer-report', answer.status, answer.body);
  return answer;
}

/** The session's record and slots as they stand, to show that a refused request changed nothing. */
async function storedState(sessionId: string) {
  const { Item } = await documents.send(
    new GetCommand({ TableName: platform.settings.sessionsTable, Key: { id: sessionId } }),
  );
  return { session: Item, slots: await slotsOf(sessionId) };
}

async function slotsOf(sessionId?: string) {
  const { Items = [] } = await documents.send(
    new ScanCommand({ TableName: platform.settings.sessionSlotsTable }),
  );
  return Items.filter((slot) => sessionId === undefined || slot.sessionId === sessionId).sort((a, b) =>
    String(a.slot).localeCompare(String(b.slot)),
  );
}

/** As if the session's time had run out `ago` seconds ago: its record and its slots say so. */
async function expire(sessionId: string, ago = 1) {
  const expiresAt = nowSeconds() - ago;
  await documents.send(
    new UpdateCommand({
      TableName: platform.settings.sessionsTable,
      Key: { id: sessionId },
      UpdateExpression: 'SET expiresAt = :e',
      ExpressionAttributeValues: { ':e': expiresAt },
    }),
  );
  for (const slot of await slotsOf(sessionId)) {
    await documents.send(
      new UpdateCommand({
        TableName: platform.settings.sessionSlotsTable,
        Key: { slot: slot.slot },
        UpdateExpression: 'SET expiresAt = :e',
        ExpressionAttributeValues: { ':e': expiresAt },
      }),
    );
  }
}

/** The converted file of an image, as the owner downloads it. */
async function convertedBytes(token: string, imageId: string): Promise<Buffer> {
  const image = await call('GET', '/v1/images/{imageId}', { token, params: { imageId } });
  return Buffer.from(await (await fetch(image.body.downloadUrl)).arrayBuffer());
}

describe('a session on images', () => {
  test('starts for 10 minutes with its viewer URL and a credential naming its images, whose URLs fetch them', async () => {
    const before = nowSeconds();
    const created = await createSession(alice, { images: [ct], overlays: [{ image: mask, on: ct }] });
    const after = nowSeconds();
    expect(created.status).toBe(201);
    const session = created.body;
    expect(session).toMatchObject({
      status: 'Started',
      region: platform.settings.viewerRegions[0],
      viewerUrl: `${platform.urls.viewer}/sessions/${session.id}`,
      images: [{ id: ct, name: 'ct.mha', kind: 'volume', overlays: [{ id: mask, name: 'mask.mha' }] }],
    });
    expect(seconds(session.expiresAt) - before).toBeGreaterThanOrEqual(600);
    expect(seconds(session.expiresAt) - after).toBeLessThanOrEqual(600);
    expect(seconds(session.maxExpiresAt) - before).toBeGreaterThanOrEqual(10_000);

    const credential = verified(session.credential, session.id);
    expect(credential).toMatchObject({
      sessionId: session.id,
      userId: sub[alice],
      expiresAt: seconds(session.expiresAt),
      viewerOrigin: platform.urls.viewer,
    });
    expect(credential.images.map((i) => [i.id, i.kind, i.overlays.map((o) => o.id)])).toEqual([
      [ct, 'volume', [mask]],
    ]);
    // The URLs last until the session's cap, not the usual few minutes.
    const expires = Number(new URL(credential.images[0].url).searchParams.get('Expires'));
    expect(expires).toBeGreaterThanOrEqual(seconds(session.maxExpiresAt));
    const fetched = Buffer.from(await (await fetch(credential.images[0].url)).arrayBuffer());
    expect(fetched).toEqual(await convertedBytes(alice, ct));
    const overlay = await fetch(credential.images[0].overlays[0].url);
    expect(Buffer.from(await overlay.arrayBuffer())).toEqual(await convertedBytes(alice, mask));
    // The credential is its own session's: no other session accepts it.
    expect(() => verified(session.credential, randomUUID())).toThrow('another session');

    // Its record is kept for 30 days past its cap.
    const { session: stored } = await storedState(session.id);
    expect(stored?.purgeAt).toBe(seconds(session.maxExpiresAt) + 30 * 86_400);

    const read = await getSession(alice, session.id);
    expect(read.status).toBe(200);
    expect(read.body.credential).toBeUndefined();
    expect(read.body).toEqual(
      Object.fromEntries(Object.entries(session).filter(([k]) => k !== 'credential')),
    );
  });

  test("another user's images are not found, and nothing is claimed", async () => {
    const refused = await createSession(alice, { images: [ct, bobsCt] });
    expect(refused).toEqual({
      status: 404,
      body: { error: { code: 'NotFound', message: `image ${bobsCt} not found` } },
    });
    const overlay = await createSession(alice, { images: [ct], overlays: [{ image: bobsCt, on: ct }] });
    expect(overlay.status).toBe(404);
    expect(await slotsOf()).toEqual([]);
  });

  test('an image that is not converted is refused with 409 naming it', async () => {
    const id = randomUUID();
    const now = new Date().toISOString();
    await documents.send(
      new PutCommand({
        TableName: platform.settings.imagesTable,
        Item: {
          ...{ id, owner: sub[alice], name: 'late.mha', status: 'Started', statusDetail: 'Converting' },
          ...{ files: [], errors: [], metadata: {}, createdAt: now, updatedAt: now },
        },
      }),
    );
    const refused = await createSession(alice, { images: [ct, id] });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain(`image ${id} is Started, not converted`);
    expect(await slotsOf()).toEqual([]);
  });

  test('bad requests say what is wrong; a slide is shown as a slide, with nothing drawn over it', async () => {
    const both = await call('POST', '/v1/sessions', {
      token: alice,
      body: { images: [ct], job: randomUUID() },
    });
    expect(both.status).toBe(400);
    expect(both.body.error.message).toContain('either images');
    const neither = await call('POST', '/v1/sessions', { token: alice, body: {} });
    expect(neither).toEqual({
      status: 400,
      body: { error: { code: 'BadRequest', message: 'Invalid request body' } },
    });
    const elsewhere = await call('POST', '/v1/sessions', {
      token: alice,
      body: { images: [ct], overlays: [{ image: mask, on: mask }] },
    });
    expect(elsewhere.status).toBe(400);
    const slide = await storedImage(alice, 'slide.tif');
    const onSlide = await call('POST', '/v1/sessions', {
      token: alice,
      body: { images: [slide], overlays: [{ image: mask, on: slide }] },
    });
    expect(onSlide.status).toBe(400);
    expect(onSlide.body.error.message).toBe(`image ${slide} is a slide: overlays are drawn on volumes`);
    expect(elsewhere.body.error.message).toContain(
      `overlay ${mask} is on ${mask}, which is not one of the images`,
    );
    expect(await slotsOf()).toEqual([]);
    // A slide itself is shown as one: the credential says so.
    const shown = await createSession(alice, { images: [ct, slide] });
    expect(shown.body.images.map((i: { kind: string }) => i.kind)).toEqual(['volume', 'slide']);
    const kinds = verified(shown.body.credential, shown.body.id).images.map((i) => i.kind);
    expect(kinds).toEqual(['volume', 'slide']);
  });

  test("another user's session is not found for reading, keeping alive or stopping", async () => {
    const { body: session } = await createSession(alice, { images: [ct] });
    const before = await storedState(session.id);
    for (const [method, route] of [
      ['GET', '/v1/sessions/{sessionId}'],
      ['POST', '/v1/sessions/{sessionId}/keep-alive'],
      ['DELETE', '/v1/sessions/{sessionId}'],
    ]) {
      const answer = await call(method, route, { token: bob, params: { sessionId: session.id } });
      expect(answer).toEqual({
        status: 404,
        body: { error: { code: 'NotFound', message: `session ${session.id} not found` } },
      });
    }
    expect(await storedState(session.id)).toEqual(before);
  });
});

describe('keep-alive and stop', () => {
  test('a keep-alive extends to 5 minutes from now, never shortens, and stops at the cap', async () => {
    const { body: session } = await createSession(alice, { images: [ct] });
    const kept = await call('POST', '/v1/sessions/{sessionId}/keep-alive', {
      token: alice,
      params: { sessionId: session.id },
    });
    expect(kept.status).toBe(200);
    // 10 minutes from the start are more than 5 from now: unchanged.
    expect(kept.body.expiresAt).toBe(session.expiresAt);
    expect(verified(kept.body.credential, session.id).expiresAt).toBe(seconds(session.expiresAt));

    // As if most of those 10 minutes had passed: the session has 20 s left.
    await expire(session.id, -20);
    const extended = await call('POST', '/v1/sessions/{sessionId}/keep-alive', {
      token: alice,
      params: { sessionId: session.id },
    });
    expect(seconds(extended.body.expiresAt) - nowSeconds()).toBeGreaterThanOrEqual(298);
    expect(seconds(extended.body.expiresAt) - nowSeconds()).toBeLessThanOrEqual(300);
    expect(verified(extended.body.credential, session.id).expiresAt).toBe(seconds(extended.body.expiresAt));
    // Its slots last as long as it does.
    for (const slot of await slotsOf(session.id))
      expect(slot.expiresAt).toBe(seconds(extended.body.expiresAt));

    // Near its cap, a keep-alive reaches the cap and no further.
    const cap = nowSeconds() + 100;
    await documents.send(
      new UpdateCommand({
        TableName: platform.settings.sessionsTable,
        Key: { id: session.id },
        UpdateExpression: 'SET maxExpiresAt = :cap, expiresAt = :soon',
        ExpressionAttributeValues: { ':cap': cap, ':soon': nowSeconds() + 50 },
      }),
    );
    const capped = await call('POST', '/v1/sessions/{sessionId}/keep-alive', {
      token: alice,
      params: { sessionId: session.id },
    });
    expect(seconds(capped.body.expiresAt)).toBe(cap);
  });

  test('stopping is final and idempotent, frees the slots, and a keep-alive afterwards is a conflict', async () => {
    const { body: session } = await createSession(alice, { images: [ct] });
    expect(await slotsOf(session.id)).toHaveLength(2);
    const stopped = await call('DELETE', '/v1/sessions/{sessionId}', {
      token: alice,
      params: { sessionId: session.id },
    });
    expect(stopped.status).toBe(200);
    expect(stopped.body.status).toBe('Stopped');
    expect(await slotsOf(session.id)).toEqual([]);
    const again = await call('DELETE', '/v1/sessions/{sessionId}', {
      token: alice,
      params: { sessionId: session.id },
    });
    expect(again).toEqual(stopped);
    expect((await getSession(alice, session.id)).body.status).toBe('Stopped');
    const late = await call('POST', '/v1/sessions/{sessionId}/keep-alive', {
      token: alice,
      params: { sessionId: session.id },
    });
    expect(late.status).toBe(409);
    expect(late.body.error.message).toContain('has ended');
  });
});

describe('limits', () => {
  test('a user has at most viewerSessionsPerUser sessions; a stopped or expired one frees its place', async () => {
    const first = await createSession(alice, { images: [ct] });
    const second = await createSession(alice, { images: [ct] });
    expect([first.status, second.status]).toEqual([201, 201]);
    const third = await createSession(alice, { images: [ct] });
    expect(third.status).toBe(429);
    expect(third.body.error.message).toContain('limits.viewerSessionsPerUser');
    // The refused start holds nothing.
    expect((await slotsOf()).map((s) => s.sessionId).sort()).toEqual(
      [first.body.id, first.body.id, second.body.id, second.body.id].sort(),
    );

    await call('DELETE', '/v1/sessions/{sessionId}', { token: alice, params: { sessionId: first.body.id } });
    const afterStop = await createSession(alice, { images: [ct] });
    expect(afterStop.status).toBe(201);

    await expire(second.body.id);
    const expired = await getSession(alice, second.body.id);
    expect(expired.body).toMatchObject({ status: 'Stopped', statusReason: 'the session expired' });
    const afterExpiry = await createSession(alice, { images: [ct] });
    expect(afterExpiry.status).toBe(201);
    const late = await call('POST', '/v1/sessions/{sessionId}/keep-alive', {
      token: alice,
      params: { sessionId: second.body.id },
    });
    expect(late.status).toBe(409);
  });

  test('starts at once never pass the limit together', async () => {
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => createSession(alice, { images: [ct] })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 429, 429, 429]);
    expect(await slotsOf()).toHaveLength(4);
  });

  test('a region runs at most viewerSessionsPerRegion sessions, and a refusal there gives the user slot back', async () => {
    expect((await createSession(alice, { images: [ct] })).status).toBe(201);
    expect((await createSession(alice, { images: [ct] })).status).toBe(201);
    expect((await createSession(bob, { images: [bobsCt] })).status).toBe(201);
    const refused = await createSession(bob, { images: [bobsCt] });
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toContain('limits.viewerSessionsPerRegion');
    expect((await slotsOf()).filter((s) => String(s.slot).startsWith(`user#${sub[bob]}#`))).toHaveLength(1);
    expect(await slotsOf()).toHaveLength(6);
  });
});

describe('regions', () => {
  test('the viewer regions are listed, the default first, each with a ping URL that answers at once', async () => {
    const listed = await call('GET', '/v1/viewer-regions', { token: bob });
    expect(listed.status).toBe(200);
    const regions = platform.settings.viewerRegions;
    expect(listed.body).toEqual({
      defaultRegion: regions[0],
      regions: regions.map((region) => ({
        region,
        available: true,
        pingUrl: `${platform.urls.viewer}/ping`,
      })),
    });
    const ping = await fetch(listed.body.regions[1].pingUrl);
    expect(ping.status).toBe(204);
  });

  test('a session runs in the region its caller names, which counts it against that region alone', async () => {
    const [home, other] = platform.settings.viewerRegions;
    // The default region is full: three sessions of its limit of three.
    expect((await createSession(alice, { images: [ct] })).status).toBe(201);
    expect((await createSession(alice, { images: [ct], region: home })).status).toBe(201);
    expect((await createSession(bob, { images: [bobsCt] })).status).toBe(201);
    const elsewhere = await createSession(bob, { images: [bobsCt], region: other });
    expect(elsewhere.status).toBe(201);
    expect(elsewhere.body.region).toBe(other);
    expect((await getSession(bob, elsewhere.body.id)).body.region).toBe(other);
    expect((await slotsOf()).filter((s) => String(s.slot).startsWith(`region#${other}#`))).toHaveLength(1);
  });

  test('a region that runs no viewer is refused naming those that do, and nothing is claimed', async () => {
    const refused = await createSession(alice, { images: [ct], region: 'sa-east-1' });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe(
      `region sa-east-1 runs no viewer: choose one of ${platform.settings.viewerRegions.join(', ')}`,
    );
    const named = await createSession(alice, { images: [ct], region: 'Frankfurt' });
    expect(named.status).toBe(400);
    expect(named.body.error.message).toMatch(/^region Frankfurt runs no viewer: choose one of /);
    expect(await slotsOf()).toHaveLength(0);
  });
});

describe('a session on a job', () => {
  async function jobOf(owner: string, inputs: object[], outputs: object[]) {
    const id = randomUUID();
    const now = new Date().toISOString();
    await documents.send(
      new PutCommand({
        TableName: platform.settings.jobsTable,
        Item: {
          ...{ id, owner: sub[owner], algorithmId: randomUUID(), algorithmVersionId: randomUUID() },
          ...{
            image: 'example',
            interfaceIndex: 0,
            inputs,
            outputs,
            status: 'Succeeded',
            sequence: 1_000_000,
          },
          ...{ holdsSlots: false, inputManifestKey: `jobs/${id}/inputs.json`, resultSigningKey: 'x' },
          ...{ createdAt: now, updatedAt: now },
        },
      }),
    );
    return id;
  }

  test("opens the job's image inputs with its image outputs as overlays, for whoever sees the job", async () => {
    const job = await jobOf(
      alice,
      [
        { socket: 'ct-image', image: ct },
        { socket: 'threshold', value: 100 },
      ],
      [
        { socket: 'mask', key: `jobs/x/output/mask.mha`, image: mask },
        { socket: 'results', value: { n: 1 } },
      ],
    );
    const created = await createSession(alice, { job });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ job, images: [{ id: ct, overlays: [{ id: mask }] }] });
    const credential = verified(created.body.credential, created.body.id);
    expect(credential.images.map((i) => [i.id, i.overlays.map((o) => o.id)])).toEqual([[ct, [mask]]]);

    expect((await createSession(bob, { job })).status).toBe(404);
  });

  test('an output image not converted yet is a conflict naming it', async () => {
    const pending = randomUUID();
    const now = new Date().toISOString();
    await documents.send(
      new PutCommand({
        TableName: platform.settings.imagesTable,
        Item: {
          ...{ id: pending, owner: sub[alice], name: 'mask.mha', status: 'Queued', statusDetail: 'Waiting' },
          ...{ files: [], errors: [], metadata: {}, createdAt: now, updatedAt: now },
        },
      }),
    );
    const job = await jobOf(alice, [{ socket: 'ct-image', image: ct }], [{ socket: 'mask', image: pending }]);
    const refused = await createSession(alice, { job });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain(`output image ${pending} of job ${job} is Queued`);
    expect(await slotsOf()).toEqual([]);
  });
});

describe('viewer reports', () => {
  test('Running marks the session running and extends it with a fresh credential; Failed ends it with the reason', async () => {
    const { body: session } = await createSession(alice, { images: [ct] });
    await expire(session.id, -30);
    const running = await report(session.id, session.credential, { state: 'Running' });
    expect(running.status).toBe(200);
    expect(running.body.status).toBe('Running');
    expect(seconds(running.body.expiresAt) - nowSeconds()).toBeGreaterThanOrEqual(298);
    expect(verified(running.body.credential, session.id).expiresAt).toBe(seconds(running.body.expiresAt));
    expect((await getSession(alice, session.id)).body.status).toBe('Running');
    const active = await report(session.id, running.body.credential, { state: 'Active' });
    expect(active.status).toBe(200);

    const failed = await report(session.id, session.credential, { state: 'Failed', reason: 'out of memory' });
    expect(failed.status).toBe(200);
    expect(failed.body.status).toBe('Failed');
    expect(failed.body.credential).toBeUndefined();
    expect((await getSession(alice, session.id)).body).toMatchObject({
      status: 'Failed',
      statusReason: 'the viewer reported: out of memory',
    });
    expect(await slotsOf(session.id)).toEqual([]);
    expect((await report(session.id, session.credential, { state: 'Active' })).status).toBe(409);
  });

  test('a session queued for a starting host says why, is kept alive while it waits, and runs with no reason once its reader connects', async () => {
    const { body: session } = await createSession(alice, { images: [ct] });
    const reason = 'no viewer host was running in the region: one is starting';
    // As create-session records a session when its region's fleet had to be woken.
    const queue = (id: string) =>
      documents.send(
        new UpdateCommand({
          TableName: platform.settings.sessionsTable,
          Key: { id },
          UpdateExpression: 'SET #status = :queued, statusReason = :reason',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':queued': 'Queued', ':reason': reason },
        }),
      );
    await queue(session.id);
    expect((await getSession(alice, session.id)).body).toMatchObject({
      status: 'Queued',
      statusReason: reason,
    });
    const kept = await call('POST', '/v1/sessions/{sessionId}/keep-alive', {
      token: alice,
      params: { sessionId: session.id },
    });
    expect(kept.status).toBe(200);
    expect(kept.body).toMatchObject({ status: 'Queued', statusReason: reason });

    const running = await report(session.id, session.credential, { state: 'Running' });
    expect(running.body.status).toBe('Running');
    expect(running.body.statusReason).toBeUndefined();
    expect((await storedState(session.id)).session!.statusReason).toBeUndefined();

    // One stopped while queued keeps no reason for queueing; one left to expire says it expired.
    const { body: other } = await createSession(alice, { images: [ct] });
    await queue(other.id);
    const stopped = await call('DELETE', '/v1/sessions/{sessionId}', {
      token: alice,
      params: { sessionId: other.id },
    });
    expect(stopped.body.status).toBe('Stopped');
    expect(stopped.body.statusReason).toBeUndefined();
    expect(await slotsOf(other.id)).toEqual([]);

    const { body: third } = await createSession(alice, { images: [ct] });
    await queue(third.id);
    await expire(third.id);
    expect((await getSession(alice, third.id)).body).toMatchObject({
      status: 'Stopped',
      statusReason: 'the session expired',
    });
  });

  test('a tampered, foreign, expired or absent credential is refused and changes nothing', async () => {
    const { body: session } = await createSession(alice, { images: [ct] });
    const { body: other } = await createSession(bob, { images: [bobsCt] });
    const before = await storedState(session.id);
    const [body, signature] = session.credential.split('.');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    const privateKeyPem = fs.readFileSync(path.join(platform.dataDir, 'session-signing-key.pem'), 'utf8');

    const forged = `${Buffer.from(JSON.stringify({ ...claims, userId: sub[bob] })).toString('base64url')}.${signature}`;
    const expired = signSessionCredential({ ...claims, expiresAt: nowSeconds() - 1 }, privateKeyPem);
    for (const [credential, status, message] of [
      [forged, 401, 'not signed by the platform'],
      [`${body}.${signature.slice(0, -4)}AAAA`, 401, 'not signed by the platform'],
      ['garbage', 401, 'malformed'],
      [expired, 401, 'expired'],
      [other.credential, 403, 'another session'],
    ] as const) {
      const refused = await report(session.id, credential, { state: 'Failed', reason: 'forged' });
      expect(refused.status).toBe(status);
      expect(refused.body.error.message).toContain(message);
    }
    expect((await report(session.id, undefined, { state: 'Failed' })).status).toBe(400);
    expect((await report(session.id, '', { state: 'Running' })).status).toBe(401);
    expect(await storedState(session.id)).toEqual(before);
  });
});
