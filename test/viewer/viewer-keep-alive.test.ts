import { generateKeyPairSync } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SessionCredential, signSessionCredential } from '../../lambda/contracts/session-credential';
import {
  ACTIVE_REPORT_INTERVAL_MS,
  ViewerSession,
  ViewerSessions,
} from '../../containers/viewer/server/viewer-sessions';

// The API's report route is stood in for by a small server: what is checked here is when the
// viewer reports and what it makes of the answer.
const keys = generateKeyPairSync('ed25519');
const privateKeyPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicKeyPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const START = 1_800_000_000_000;

function credential(expiresAt: number, sessionId = 's1'): string {
  const c: SessionCredential = {
    sessionId,
    userId: 'alice',
    issuedAt: START / 1000,
    expiresAt,
    viewerOrigin: 'http://127.0.0.1',
    images: [],
  };
  return signSessionCredential(c, privateKeyPem);
}

let api: http.Server;
let port: number;
const received: { state: string; authorization?: string }[] = [];
/** What the route answers next. */
let answer: { status: number; body: unknown } = { status: 200, body: {} };

beforeAll(async () => {
  api = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ state: JSON.parse(body).state, authorization: req.headers.authorization });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  port = (api.address() as AddressInfo).port;
});

afterAll(() => new Promise((resolve) => api.close(resolve)));

function sessions(now: { ms: number }, extended: ViewerSession[] = []) {
  return new ViewerSessions({
    publicKeyPem,
    reportUrl: (id) => `http://127.0.0.1:${port}/v1/sessions/${id}/viewer-report`,
    onExpired: () => undefined,
    onExtended: (session) => extended.push(session),
    now: () => now.ms,
  });
}

test('Running once, Active at most once a minute, each with the newest credential, whose expiry is adopted', async () => {
  received.length = 0;
  const now = { ms: START };
  const extended: ViewerSession[] = [];
  const held = sessions(now, extended);
  const first = credential(START / 1000 + 600);
  const { session } = held.admit('s1', first);
  const fresh = credential(START / 1000 + 900);
  answer = { status: 200, body: { status: 'Running', expiresAt: 'x', credential: fresh } };
  await held.report(session, 'Running');
  await held.report(session, 'Running');
  expect(received).toEqual([{ state: 'Running', authorization: `Bearer ${first}` }]);
  expect(session.credential.expiresAt).toBe(START / 1000 + 900);
  expect(extended).toHaveLength(1);

  now.ms += ACTIVE_REPORT_INTERVAL_MS - 1;
  await held.report(session, 'Active');
  expect(received).toHaveLength(1);
  now.ms += 1;
  await held.report(session, 'Active');
  expect(received.at(-1)).toEqual({ state: 'Active', authorization: `Bearer ${fresh}` });
  held.clear();
});

test('an answer whose credential is not the platform’s, or is for another session, changes nothing', async () => {
  const now = { ms: START };
  const held = sessions(now);
  const { session } = held.admit('s1', credential(START / 1000 + 600));
  const stranger = generateKeyPairSync('ed25519')
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  answer = {
    status: 200,
    body: {
      credential: signSessionCredential(
        {
          sessionId: 's1',
          userId: 'alice',
          issuedAt: 0,
          expiresAt: START / 1000 + 9999,
          viewerOrigin: '',
          images: [],
        },
        stranger,
      ),
    },
  };
  await expect(held.report(session, 'Running')).rejects.toThrow('not signed by the platform');
  answer = { status: 200, body: { credential: credential(START / 1000 + 9999, 's2') } };
  now.ms += ACTIVE_REPORT_INTERVAL_MS;
  await expect(held.report(session, 'Active')).rejects.toThrow('for another session');
  expect(session.credential.expiresAt).toBe(START / 1000 + 600);
  held.clear();
});

test('a refused report is an error in words, and the session keeps its expiry', async () => {
  const held = sessions({ ms: START });
  const { session } = held.admit('s1', credential(START / 1000 + 600));
  answer = { status: 409, body: { error: { code: 'Conflict', message: 'the session has ended' } } };
  await expect(held.report(session, 'Running')).rejects.toThrow(
    "the API refused the viewer's Running report with 409",
  );
  expect(session.credential.expiresAt).toBe(START / 1000 + 600);
  held.clear();
});

test('a ticket opens only its own session, and nothing once the credential has expired', () => {
  const now = { ms: START };
  const held = sessions(now);
  const { ticket } = held.admit('s1', credential(START / 1000 + 60));
  held.admit('s2', credential(START / 1000 + 60, 's2'));
  expect(held.byTicket('s1', ticket)?.sessionId).toBe('s1');
  expect(held.byTicket('s2', ticket)).toBeUndefined();
  now.ms += 60_000;
  expect(held.byTicket('s1', ticket)).toBeUndefined();
  held.clear();
});
