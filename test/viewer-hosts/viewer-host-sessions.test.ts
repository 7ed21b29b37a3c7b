import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { VIEWER_HOST } from '../../lambda/contracts/viewer-host';
import { EngineApi } from '../../containers/viewer/host/engine-api';
import {
  HOST_LABEL,
  HOST_TOKEN_HEADER,
  HOST_TOKEN_VARIABLE,
  SESSION_VIEWER_PORT,
} from '../../containers/viewer/host/session-containers';
import { SESSION_NOT_HERE_STATUS } from '../../containers/viewer/server/protocol';
import { freePorts } from '../helpers/free-ports';
import { exchange, openReader, uniformCt, until } from './session-reader';
import {
  buildViewerHostImage,
  engineService,
  sessionKeys,
  startImageServer,
  startTestHost,
} from './viewer-host-fixture';

const run = promisify(execFile);

/**
 * A viewer host on this machine, its sessions in real containers: what one session can reach of
 * another, a session's viewer killed under the other, a full host, and a host drained by its
 * Auto Scaling lifecycle.
 */

let engine: Awaited<ReturnType<typeof engineService>>;
let built: Awaited<ReturnType<typeof buildViewerHostImage>>;
let images: Awaited<ReturnType<typeof startImageServer>>;
const keys = sessionKeys();
let api: EngineApi;

interface Inspected {
  Name: string;
  Config: { User: string; Labels: Record<string, string>; Env: string[] };
  HostConfig: {
    Memory: number;
    NanoCpus: number;
    PidsLimit: number;
    ReadonlyRootfs: boolean;
    CapDrop: string[] | null;
    SecurityOpt: string[] | null;
  };
  NetworkSettings: { Networks: Record<string, { IPAddress: string }> };
}

/** The containers of a host, inspected. */
async function containersOf(instanceId: string): Promise<Inspected[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`${HOST_LABEL}=${instanceId}`] }));
  const listed = await api.call<{ Id: string }[]>('GET', `/containers/json?filters=${filters}`);
  return Promise.all(listed.map((c) => api.call<Inspected>('GET', `/containers/${c.Id}/json`)));
}

/** The secret the host shows a session's viewer, as the engine holds it. */
function tokenOf(container: Inspected): string {
  const entry = container.Config.Env.find((e) => e.startsWith(`${HOST_TOKEN_VARIABLE}=`));
  return entry!.slice(HOST_TOKEN_VARIABLE.length + 1);
}

/** Runs a Node script inside a container, as its viewer's user. */
async function inContainer(name: string, script: string): Promise<string> {
  const { stdout, stderr } = await run(engine.command, [
    'exec',
    name.replace(/^\//, ''),
    'node',
    '-e',
    script,
  ]);
  if (!stdout.trim()) throw new Error(`the script printed nothing: ${stderr}`);
  return stdout.trim();
}

/** The lifecycle hooks the host completed, in order. */
function completions(calls: { name: string; input: unknown }[]): string[] {
  return calls
    .filter((c) => c.name === 'complete')
    .map((c) => (c.input as { LifecycleHookName: string }).LifecycleHookName);
}

/** A host of two sessions on a free port of this machine, as the tests here run it. */
async function hostOfTwo(options: Partial<Parameters<typeof startTestHost>[0]> = {}) {
  const [port] = await freePorts(1);
  const origin = `http://127.0.0.1:${port}`;
  const host = await startTestHost({
    socketPath: engine.socketPath,
    image: built.image,
    publicKeyPem: keys.publicKeyPem,
    origin,
    apiUrl: images.apiUrl,
    sessionsPerHost: 2,
    port,
    ...options,
  });
  return { host, origin };
}

beforeAll(async () => {
  engine = await engineService();
  api = new EngineApi(engine.socketPath);
  [built, images] = await Promise.all([
    buildViewerHostImage(engine.command),
    startImageServer({ 'a.mha': uniformCt(100), 'b.mha': uniformCt(700) }),
  ]);
}, 120_000);

afterAll(async () => {
  await images?.stop();
  await built?.remove();
  await engine?.stop();
});

describe('two sessions on one host', () => {
  let host: Awaited<ReturnType<typeof startTestHost>>;
  let origin: string;
  const credentialOf = (sessionId: string, image: string) =>
    keys.credential(sessionId, origin, [{ id: image, url: images.imageUrl(`${image}.mha`) }]);
  let a: { cookie: string; reader: Awaited<ReturnType<typeof openReader>> };
  let b: { cookie: string; reader: Awaited<ReturnType<typeof openReader>> };

  beforeAll(async () => {
    ({ host, origin } = await hostOfTwo());
    const open = async (sessionId: string, image: string) => {
      const exchanged = await exchange(origin, sessionId, credentialOf(sessionId, image));
      expect(exchanged.status).toBe(200);
      return { cookie: exchanged.cookie!, reader: await openReader(origin, sessionId, exchanged.cookie!) };
    };
    [a, b] = await Promise.all([open('session-a', 'a'), open('session-b', 'b')]);
  }, 60_000);

  afterAll(async () => {
    a?.reader.close();
    b?.reader.close();
    await host?.stop();
  });

  test('each session runs in a container of its own, with its own limits and network', async () => {
    const containers = await containersOf(host.instanceId);
    expect(containers).toHaveLength(2);
    const networks = containers.map((c) => Object.keys(c.NetworkSettings.Networks));
    expect(networks[0]).toHaveLength(1);
    expect(networks[1]).toHaveLength(1);
    expect(networks[0][0]).not.toBe(networks[1][0]);
    for (const container of containers) {
      expect(container.Config.User).toBe('node');
      expect(container.HostConfig).toMatchObject({
        Memory: 512 * 1024 * 1024,
        NanoCpus: 1_000_000_000,
        PidsLimit: 256,
        ReadonlyRootfs: true,
      });
    }
  });

  test("a session's viewer reaches neither another's viewer nor its processes, and runs unprivileged on a read-only root", async () => {
    // A's viewer tries B's with B's ticket: its network should not reach it, and B's viewer, without
    // the host's secret, would refuse it (podman's isolation of networks was seen to lapse while
    // another podman service changed its networks: the secret holds whatever the network does).
    const secondAddress = await addressOfSession('session-b', b.cookie);
    const first = (await containersOf(host.instanceId)).find(
      (c) => Object.values(c.NetworkSettings.Networks)[0].IPAddress !== secondAddress,
    )!;
    // The host reaches both viewers.
    expect((await fetch(`http://${secondAddress}:${SESSION_VIEWER_PORT}/ping`)).status).toBe(204);
    const seen = JSON.parse(
      await inContainer(
        first.Name,
        `const fs = require('fs');
        const status = fs.readFileSync('/proc/self/status', 'utf8');
        const processes = fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p))
          .map((p) => fs.readFileSync('/proc/' + p + '/cmdline', 'utf8').split('\\0').join(' ').trim());
        let written = 'written';
        try { fs.writeFileSync('/app/entrypoint.js', '') } catch (e) { written = e.code }
        new Promise((resolve) => {
          const request = require('http').request(
            { host: '${secondAddress}', port: ${SESSION_VIEWER_PORT}, method: 'POST', path: '/sessions/session-b/ticket', headers: { cookie: '${b.cookie}' } },
            (response) => resolve('reached ' + response.statusCode),
          );
          request.setTimeout(2000, () => resolve('unreachable'));
          request.on('error', () => resolve('unreachable'));
          request.end();
        }).then((reach) => console.log(JSON.stringify({
            reach, processes, written,
            capabilities: /CapEff:\\s*(\\w+)/.exec(status)[1],
            noNewPrivs: /NoNewPrivs:\\s*(\\d)/.exec(status)[1],
            uid: process.getuid(),
          })) || process.exit(0));`,
      ),
    ) as {
      reach: string;
      processes: string[];
      written: string;
      capabilities: string;
      noNewPrivs: string;
      uid: number;
    };
    // Its own processes only: the viewer as process 1, and this script.
    expect(seen).toEqual({
      reach: expect.stringMatching(/^(unreachable|reached 403)$/),
      processes: [expect.stringMatching(/entrypoint\.js session/), expect.stringMatching(/^node -e/)],
      written: 'EROFS',
      capabilities: '0000000000000000',
      noNewPrivs: '1',
      uid: 1000,
    });
  });

  test("one session's credential and ticket open nothing of the other's", async () => {
    const refused = await exchange(origin, 'session-a', credentialOf('session-b', 'b'));
    expect(refused.status).toBe(403);
    // B's ticket on A's socket: A's viewer never gave it.
    await expect(openReader(origin, 'session-a', b.cookie)).rejects.toThrow(/401/);
    // Straight to A's viewer: without the host's secret it answers nothing, even to A's own ticket.
    const address = await addressOfSession('session-a', a.cookie);
    const first = (await containersOf(host.instanceId)).find(
      (c) => Object.values(c.NetworkSettings.Networks)[0].IPAddress === address,
    )!;
    const unproven = await fetch(`http://${address}:${SESSION_VIEWER_PORT}/sessions/session-a/ticket`, {
      method: 'POST',
      headers: { cookie: a.cookie },
    });
    expect(unproven.status).toBe(403);
    // With it, as the host: it holds A and takes no other session.
    const other = await fetch(`http://${address}:${SESSION_VIEWER_PORT}/sessions/session-x/credential`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${keys.credential('session-x', origin, [])}`,
        [HOST_TOKEN_HEADER]: tokenOf(first),
      },
    });
    expect(other.status).toBe(403);
    expect(((await other.json()) as { error: string }).error).toMatch(/another session/);
    // A's socket lists A's image only, and renders no other.
    const session = await until(() => a.reader.messages.find((m) => m.type === 'session'));
    expect(session.type === 'session' && session.images.map((i) => i.id)).toEqual(['a']);
    a.reader.view('b', 3);
    const error = await until(() => a.reader.messages.find((m) => m.type === 'error'));
    expect(error.type === 'error' && error.message).toMatch(/not in this session|not.*session/i);
  });

  test('a refused credential takes no slot, and pings are answered at once', async () => {
    const missing = await fetch(`${origin}/sessions/session-z/credential`, { method: 'POST' });
    expect(missing.status).toBe(401);
    const forged = await exchange(origin, 'session-z', credentialOf('session-b', 'b'));
    expect(forged.status).toBe(403);
    const otherViewer = await exchange(
      origin,
      'session-z',
      keys.credential('session-z', 'https://viewer.elsewhere.example', []),
    );
    expect(otherViewer).toMatchObject({
      status: 403,
      body: { error: 'the session credential is for another viewer' },
    });
    expect(await containersOf(host.instanceId)).toHaveLength(2);
    const ping = await fetch(`${origin}${VIEWER_HOST.pingPath}`);
    expect(ping.status).toBe(204);
    expect(ping.headers.get('access-control-allow-origin')).toBe('*');
  });

  test('a full host answers its health check with 503 and sends a new session away with Retry-After', async () => {
    const health = await fetch(`${origin}${VIEWER_HOST.healthPath}`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ sessions: 2, freeSlots: 0, draining: false });
    const third = await exchange(origin, 'session-c', credentialOf('session-c', 'a'));
    expect(third.status).toBe(503);
    expect(third.retryAfter).toBe('2');
    expect(await containersOf(host.instanceId)).toHaveLength(2);
  });

  test("killing one session's viewer leaves the other rendering, and frees its slot", async () => {
    const id = b.reader.view('b', 5);
    await b.reader.frame(id);
    // Which container is A's: the one B's reader is not on. Killed from outside, as a crash would.
    const aAddress = await addressOfSession('session-a', a.cookie);
    const containers = await containersOf(host.instanceId);
    const aContainer = containers.find(
      (c) => Object.values(c.NetworkSettings.Networks)[0].IPAddress === aAddress,
    )!;
    await api.call('POST', `/containers/${aContainer.Name.replace(/^\//, '')}/kill`);
    expect(await a.reader.closed).toBeGreaterThan(0);
    // B goes on rendering, frame after frame.
    for (let z = 6; z < 12; z++) {
      const header = await b.reader.frame(b.reader.view('b', z));
      expect(header.view.position[2]).toBe(z);
    }
    await until(() => host.host.supervisor.status().sessions === 1, 10_000, 'the slot to be freed');
    expect((await fetch(`${origin}${VIEWER_HOST.healthPath}`)).status).toBe(200);
    // A's routes now say the host does not hold it; exchanging again starts it afresh.
    const ticket = await fetch(`${origin}/sessions/session-a/ticket`, {
      method: 'POST',
      headers: { cookie: a.cookie },
    });
    expect(ticket.status).toBe(SESSION_NOT_HERE_STATUS);
    const sample = await host.host.supervisor.sample();
    expect(sample.sessionStartFailures).toBe(1);
    // B's frames, timed in its viewer, reach the host's metrics.
    expect(sample.frameMilliseconds.length).toBeGreaterThanOrEqual(6);
    const again = await exchange(origin, 'session-a', credentialOf('session-a', 'a'));
    expect(again.status).toBe(200);
    const reader = await openReader(origin, 'session-a', again.cookie!);
    await reader.frame(reader.view('a', 4));
    reader.close();
  });

  /** The address of the viewer holding a session, found by asking each container for its ticket. */
  async function addressOfSession(sessionId: string, cookie: string): Promise<string> {
    for (const container of await containersOf(host.instanceId)) {
      const address = Object.values(container.NetworkSettings.Networks)[0].IPAddress;
      const answer = await fetch(`http://${address}:${SESSION_VIEWER_PORT}/sessions/${sessionId}/ticket`, {
        method: 'POST',
        headers: { cookie, [HOST_TOKEN_HEADER]: tokenOf(container) },
      });
      if (answer.status === 200) return address;
    }
    throw new Error(`no viewer holds ${sessionId}`);
  }
});

describe('a host Auto Scaling terminates', () => {
  test('drains: refuses new sessions, keeps its open one, and stops with its lifecycle action completed once that ends', async () => {
    const { host, origin } = await hostOfTwo({ warm: 1, idleSeconds: 1 });
    try {
      const credential = (sessionId: string) =>
        keys.credential(sessionId, origin, [{ id: 'a', url: images.imageUrl('a.mha') }]);
      const opened = await exchange(origin, 'session-d', credential('session-d'));
      expect(opened.status).toBe(200);
      const reader = await openReader(origin, 'session-d', opened.cookie!);
      await reader.frame(reader.view('a', 2));
      // Holding a session, the host protects itself from scale-in; empty, it was not protected.
      const protections = () =>
        host.aws.calls
          .filter((c) => c.name === 'protect')
          .map((c) => (c.input as { ProtectedFromScaleIn: boolean }).ProtectedFromScaleIn);
      await until(() => protections().includes(true), 5000, 'scale-in protection');
      expect(protections()[0]).toBe(false);
      let stopped = false;
      void host.host.stopped.then(() => (stopped = true));

      host.metadata.setLifecycleState('Terminated');
      await until(() => host.host.supervisor.status().draining, 5000, 'the host to drain');
      const health = await fetch(`${origin}${VIEWER_HOST.healthPath}`);
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({ sessions: 1, freeSlots: 0, draining: true });
      const refused = await exchange(origin, 'session-e', credential('session-e'));
      expect(refused.status).toBe(503);
      expect(refused.retryAfter).toBe('2');
      // The open session goes on while the hook is held by heartbeats.
      await until(() => host.aws.calls.filter((c) => c.name === 'heartbeat').length >= 2, 5000, 'heartbeats');
      await reader.frame(reader.view('a', 7));
      expect(stopped).toBe(false);
      // Only the hook it completed when it started, ready, has been completed.
      expect(completions(host.aws.calls)).toEqual(['host-ready']);
      // The spare started ahead is gone: only the open session's viewer is left.
      expect(await containersOf(host.instanceId)).toHaveLength(1);

      // The reader leaves; its viewer ends after the idle time, and the host with it.
      reader.close();
      await host.host.stopped;
      const target = {
        AutoScalingGroupName: 'viewer-hosts-test',
        LifecycleHookName: 'drain-sessions',
        InstanceId: host.instanceId,
      };
      expect(host.aws.calls.filter((c) => c.name === 'heartbeat')[0].input).toEqual(target);
      expect(completions(host.aws.calls)).toEqual(['host-ready', 'drain-sessions']);
      expect(host.aws.calls.filter((c) => c.name === 'complete')[1].input).toEqual({
        ...target,
        LifecycleActionResult: 'CONTINUE',
      });
      await expect(fetch(`${origin}${VIEWER_HOST.pingPath}`)).rejects.toThrow();
      expect(await containersOf(host.instanceId)).toHaveLength(0);
      // Its last metrics went out as it stopped, per host and for the region.
      const published = host.aws.calls.filter((c) => c.name === 'putMetricData').pop()?.input as {
        Namespace: string;
        MetricData: { MetricName: string; Dimensions?: unknown[]; Value?: number }[];
      };
      expect(published.Namespace).toBe('test/Viewer');
      const sessions = published.MetricData.filter((d) => d.MetricName === 'Sessions');
      expect(sessions).toEqual([
        expect.objectContaining({
          Dimensions: [{ Name: 'AutoScalingGroupName', Value: 'viewer-hosts-test' }],
          Value: 0,
        }),
        expect.objectContaining({ Value: 0 }),
      ]);
      expect(sessions[1].Dimensions).toBeUndefined();
    } finally {
      await host.stop();
    }
  }, 60_000);
});

describe('a host headed for the warm pool', () => {
  test('says it is ready, then takes no session and publishes nothing until it is stopped', async () => {
    const { host, origin } = await hostOfTwo({ lifecycleState: 'Warmed:Stopped' });
    try {
      expect(completions(host.aws.calls)).toEqual(['host-ready']);
      expect(host.aws.calls.find((c) => c.name === 'complete')?.input).toEqual({
        AutoScalingGroupName: 'viewer-hosts-test',
        LifecycleHookName: 'host-ready',
        InstanceId: host.instanceId,
        LifecycleActionResult: 'CONTINUE',
      });
      const credential = keys.credential('session-w', origin, [{ id: 'a', url: images.imageUrl('a.mha') }]);
      expect((await exchange(origin, 'session-w', credential)).status).toBe(503);
      await host.host.stop();
      expect(host.aws.calls.map((c) => c.name)).toEqual(['complete']);
    } finally {
      await host.stop();
    }
  }, 30_000);
});
