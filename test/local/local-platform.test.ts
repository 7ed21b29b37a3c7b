import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalCredentialStore } from '../../local/iam/local-credentials';
import { LocalService, PORT_VARIABLES } from '../../local/local-options';
import { freeLocalPorts } from '../helpers/free-ports';

const projectDir = path.join(__dirname, '..', '..');

interface Started {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exit: Promise<number | null>;
}

/** `npm start` in its own process group, as a terminal runs it; Ctrl-C goes to the whole group. */
function npmStart(env: Record<string, string>): Started {
  let output = '';
  const child = spawn('npm', ['start'], {
    cwd: projectDir,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exit };
}

async function waitFor(started: Started, text: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!started.output().includes(text)) {
    if (Date.now() > deadline || started.child.exitCode !== null) {
      throw new Error(`"${text}" did not appear; output so far:\n${started.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends SIGINT to the group and waits until every process of it has exited. */
async function pressCtrlC(started: Started, timeoutMs = 20_000): Promise<void> {
  const pid = started.child.pid!;
  process.kill(-pid, 'SIGINT');
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`processes of group ${pid} still running after SIGINT`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

describe('npm start', () => {
  let ports: Record<LocalService, number>;
  let env: Record<string, string>;
  let running: Started | undefined;

  beforeAll(async () => {
    ports = await freeLocalPorts();
    env = {
      LOCAL_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'npm-start-')),
      ...Object.fromEntries(
        Object.entries(ports).map(([service, port]) => [
          PORT_VARIABLES[service as LocalService],
          String(port),
        ]),
      ),
    };
  });

  afterEach(() => {
    if (running?.child.pid && groupAlive(running.child.pid)) process.kill(-running.child.pid, 'SIGKILL');
    running = undefined;
  });

  const clients = () => {
    const common = {
      region: 'eu-central-1',
      // The operator's keys, which `npm start` prints.
      credentials: new LocalCredentialStore().operator,
    };
    return {
      s3: new S3Client({ ...common, endpoint: `http://127.0.0.1:${ports.s3}`, forcePathStyle: true }),
      dynamodb: new DynamoDBClient({ ...common, endpoint: `http://127.0.0.1:${ports.dynamodb}` }),
    };
  };

  test('comes up, reports every embedded service healthy, and stops on Ctrl-C leaving no process or port behind', async () => {
    running = npmStart(env);
    await waitFor(running, 'Press Ctrl-C to stop.');
    for (const port of Object.values(ports)) expect(running.output()).toContain(`http://127.0.0.1:${port}`);

    const response = await fetch(`http://127.0.0.1:${ports.api}/v1/health`);
    const health = (await response.json()) as { status: string; services: Record<string, { ok: boolean }> };
    expect(response.status).toBe(200);
    expect(health.status).toBe('ok');
    expect(Object.keys(health.services).sort()).toEqual([
      'batch',
      'cloudfront',
      'codepipeline',
      'dynamodb',
      'logs',
      's3',
      'secretsManager',
      'sqs',
    ]);
    for (const service of Object.values(health.services)) expect(service.ok).toBe(true);

    // Leave data behind for the restart test.
    const { s3, dynamodb } = clients();
    await s3.send(
      new PutObjectCommand({ Bucket: 'imaging-platform-local', Key: 'uploads/kept.txt', Body: 'kept' }),
    );
    await dynamodb.send(
      new CreateTableCommand({
        TableName: 'kept',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    s3.destroy();
    dynamodb.destroy();

    // npm itself dies of the signal, as in a terminal; the platform must stop cleanly under it.
    await pressCtrlC(running);
    expect(running.output()).toContain('SIGINT received, stopping...\nStopped.');
    for (const port of Object.values(ports)) expect(await portFree(port)).toBe(true);
  });

  test('keeps S3 objects and DynamoDB tables across a restart', async () => {
    running = npmStart(env);
    await waitFor(running, 'Press Ctrl-C to stop.');
    const { s3, dynamodb } = clients();
    const object = await s3.send(
      new GetObjectCommand({ Bucket: 'imaging-platform-local', Key: 'uploads/kept.txt' }),
    );
    expect(await object.Body!.transformToString()).toBe('kept');
    expect((await dynamodb.send(new ListTablesCommand({}))).TableNames).toContain('kept');
    s3.destroy();
    dynamodb.destroy();
    await pressCtrlC(running);
    expect(running.output()).toContain('Stopped.');
  });

  test('refuses to start when a port is taken, naming the port and its variable, and leaves nothing running', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(ports.dynamodb, '127.0.0.1', resolve));
    try {
      running = npmStart(env);
      expect(await running.exit).toBe(1);
      expect(running.output()).toContain(
        `Port ${ports.dynamodb} on 127.0.0.1 for the DynamoDB (dynalite) is already in use. Stop what holds it, or set LOCAL_DYNAMODB_PORT to another port.`,
      );
      for (const [service, port] of Object.entries(ports)) {
        if (service !== 'dynamodb') expect(await portFree(port)).toBe(true);
      }
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  test('refuses a port variable that is not a port', async () => {
    running = npmStart({ ...env, LOCAL_S3_PORT: 'eighty' });
    expect(await running.exit).toBe(1);
    expect(running.output()).toContain('LOCAL_S3_PORT must be a port number from 1 to 65535, got "eighty"');
  });
});
