import sharp from 'sharp';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PORT_VARIABLES } from '../../local/local-options';
import { apiClient } from '../helpers/api-client';
import { completedUpload } from '../helpers/api-flows';
import { freeLocalPorts } from '../helpers/free-ports';

/**
 * Ctrl-C at the terminal of `npm start` sends SIGINT to its whole foreground process group. Local
 * mode runs here as `npm start` runs it, in a process group of its own, and gets Ctrl-C as a
 * terminal gives it.
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
  // As `npm start` runs it: tsx, whose child is local mode.
  const child = spawn(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['bin/local-platform.ts'], {
    cwd: ROOT,
    env,
    detached: true,
  });
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
  return {
    call: apiClient(`http://127.0.0.1:${ports.api}`),
    /** Ctrl-C at its terminal; resolves with its exit code once it stopped. */
    ctrlC: async () => {
      process.kill(-child.pid!, 'SIGINT');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`npm start did not stop after Ctrl-C: ${output}`)), 60_000);
      });
      return Promise.race([exited, late]).finally(() => clearTimeout(timer));
    },
  };
}

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
    const converter = await until(() => processOf(`entrypoint.ts ${imageId}`), 'the converter process');
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
