import sharp from 'sharp';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { PORT_VARIABLES } from '../../local/local-options';
import { apiClient } from '../helpers/api-client';
import { completedUpload } from '../helpers/api-flows';
import { freeLocalPorts } from '../helpers/free-ports';

/**
 * Ctrl-C at the terminal of `npm start` sends SIGINT to its whole foreground process group; a
 * process manager or `kill` sends SIGTERM or SIGINT to npm's process alone. Local mode runs here
 * as `npm start` runs it, in a process group of its own, and gets each as it would.
 */

const ROOT = path.join(__dirname, '..', '..');
const alice = 'dev-alice';
const started = new Set<ChildProcess>();
const leftOver: number[] = [];

afterAll(() => {
  for (const child of started) if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
  for (const pid of leftOver) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
});

/** `npm start` on `dataDir` and free ports; resolves once it says it runs. */
async function npmStart(dataDir: string) {
  const ports = await freeLocalPorts();
  const env: NodeJS.ProcessEnv = { ...process.env, LOCAL_DATA_DIR: dataDir };
  for (const [service, variable] of Object.entries(PORT_VARIABLES)) {
    env[variable] = String(ports[service as keyof typeof ports]);
  }
  const child = spawn('npm', ['start'], { cwd: ROOT, env, detached: true });
  started.add(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (output.includes('Press Ctrl-C to stop.')) resolve();
      else if (child.exitCode !== null) reject(new Error(`npm start exited: ${output}`));
      else setTimeout(check, 100);
    };
    check();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  /** Sends `signal` to npm alone or to its process group; resolves with npm's exit code. */
  const signalled = async (signal: NodeJS.Signals, to: 'npm' | 'group') => {
    process.kill(to === 'group' ? -child.pid! : child.pid!, signal);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`npm start did not stop after ${signal}: ${output}`)),
        60_000,
      );
    });
    return Promise.race([exited, late]).finally(() => clearTimeout(timer));
  };
  return {
    call: apiClient(`http://127.0.0.1:${ports.api}`),
    ports: Object.values(ports),
    /** npm and every process under it. */
    processes: () => [child.pid!, ...descendants(child.pid!)],
    /** Ctrl-C at its terminal; resolves with its exit code once it stopped. */
    ctrlC: () => signalled('SIGINT', 'group'),
    signalled,
  };
}

function descendants(pid: number): number[] {
  let children: number[];
  try {
    children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number);
  } catch {
    children = []; // pgrep exits 1 when there is none.
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Whether something accepts connections on `port` of loopback. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

async function until<T>(read: () => Promise<T> | T, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const processOf = (pattern: string) => {
  try {
    return Number(execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n')[0]);
  } catch {
    return 0;
  }
};

describe('Ctrl-C on npm start', () => {
  test('during a conversion in the converter container: the next start converts the image, which never failed', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imaging-platform-ctrl-c-'));
    const first = await npmStart(dataDir);
    // Pictures need libvips: they go to the converter container.
    const png = await sharp({ create: { width: 6, height: 4, channels: 3, background: '#204060' } })
      .png()
      .toBuffer();
    const upload = await completedUpload(first.call, alice, 'photo.png', png);
    const created = await first.call('POST', '/v1/images', { token: alice, body: { uploads: [upload] } });
    expect(created.status).toBe(201);
    const imageId: string = created.body.id;
    // The converter's entrypoint, run from its bundle, with the image's id as its argument.
    const converter = await until(
      () => processOf(`entrypoint-[0-9a-f]+\\.cjs ${imageId}`),
      'the converter process',
    );
    leftOver.push(converter);
    // Frozen, so that it is surely under way when Ctrl-C comes.
    process.kill(converter, 'SIGSTOP');
    expect(await first.ctrlC()).toBe(0);

    const second = await npmStart(dataDir);
    const read = async () =>
      (await second.call('GET', '/v1/images/{imageId}', { token: alice, params: { imageId } })).body;
    const ended = await until(async () => {
      const image = await read();
      return image.status === 'Queued' || image.status === 'Started' ? undefined : image;
    }, 'the conversion').catch(read);
    expect([ended.status, ended.metadata?.size]).toEqual(['Succeeded', [6, 4]]);
    expect(await second.ctrlC()).toBe(0);
  }, 240_000);
});

describe.each(['SIGTERM', 'SIGINT'] as const)('%s to npm start alone', (signal) => {
  test('stops local mode: no process and no port is left behind', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imaging-platform-signal-'));
    const platform = await npmStart(dataDir);
    const processes = platform.processes();
    expect(processes.length).toBeGreaterThan(1);
    expect((await Promise.all(platform.ports.map(listening))).filter(Boolean).length).toBeGreaterThan(0);

    expect(await platform.signalled(signal, 'npm')).toBe(0);
    await until(() => processes.every((pid) => !alive(pid)), 'every process of npm start ending', 10_000);
    expect(await Promise.all(platform.ports.map(listening))).toEqual(platform.ports.map(() => false));
  }, 120_000);
});
