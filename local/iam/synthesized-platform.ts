import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TableName } from '../../lambda/contracts/tables';
import type { PlatformConfig } from '../../lib/config/platform-config';

const ROOT = path.join(__dirname, '..', '..');
const SYNTH = path.join(ROOT, 'bin', 'synth-for-local-mode.ts');
/** What the templates follow from: deploy code, deployments and contracts, the CDK's version. */
const INPUTS = [
  'lib',
  'lambda',
  'containers',
  'bin/synth-for-local-mode.ts',
  'cdk.json',
  'package-lock.json',
];
const CACHE_DIR = path.join(ROOT, 'node_modules', '.cache', 'imaging-platform', 'synthesized');
/** A lock older than this was left by a synth that died. */
const STALE_LOCK_MS = 180_000;

/** A resource of a template: its stack and logical id. */
export interface LogicalRef {
  readonly stack: string;
  readonly logicalId: string;
}

/** A CloudFormation template, as far as local mode reads it. */
export interface Template {
  readonly Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  readonly Outputs?: Record<string, { Value: unknown }>;
}

/**
 * The platform as `cdk synth` makes it from local mode's configuration: its templates, and where
 * in them each thing that local mode stands in for is.
 */
export interface SynthesizedPlatform {
  readonly templates: Readonly<Record<string, Template>>;
  readonly tables: Readonly<Record<TableName, LogicalRef>>;
  readonly imagingBucket: LogicalRef;
  readonly platformKey: LogicalRef;
  readonly queues: {
    readonly conversion: LogicalRef;
    readonly conversionDeadLetters: LogicalRef;
    readonly backgroundFailures: LogicalRef;
    readonly builds: LogicalRef;
    readonly buildDeadLetters: LogicalRef;
  };
  /** The URL-signing key pairs: where their secrets are named, the secret naming the current one, each generation's custom resource and public key. */
  readonly signingKeys: {
    readonly secretNamePrefix: string;
    readonly currentKeySecret: LogicalRef;
    readonly generations: readonly {
      readonly generation: number;
      readonly keyPair: LogicalRef;
      readonly publicKey: LogicalRef;
    }[];
  };
  /** The session signing key: where its secret is named, and the custom resource that makes it. */
  readonly sessionSigningKey: { readonly secretNamePrefix: string; readonly keyPair: LogicalRef };
  readonly distribution: LogicalRef;
  /** The build log group, whose name is unique to the api stack's creation. */
  readonly buildLogGroup: LogicalRef;
  /** The secret that keys page tokens. */
  readonly pageTokenKey: LogicalRef;
  /** Each function by handler folder: the function, its role, and the rule that triggers it. */
  readonly functions: Readonly<
    Record<string, { readonly function: LogicalRef; readonly role: LogicalRef; readonly rule?: LogicalRef }>
  >;
  readonly converter: {
    readonly jobDefinition: LogicalRef;
    readonly jobRole: LogicalRef;
    readonly executionRole: LogicalRef;
    readonly logGroup: LogicalRef;
  };
  /** The staging jobs that copy each job's inputs before it runs. */
  readonly inputStager: {
    readonly jobDefinition: LogicalRef;
    readonly jobRole: LogicalRef;
    readonly executionRole: LogicalRef;
    readonly logGroup: LogicalRef;
  };
  readonly algorithmJobs: {
    readonly jobRole: LogicalRef;
    readonly executionRole: LogicalRef;
    readonly logGroup: LogicalRef;
  };
}

/**
 * The platform synthesized from `config`, from a cache on disk keyed by a hash of the config and
 * of every file the templates follow from: a synth takes seconds, and every test that starts
 * local mode needs it. One process synthesizes while others wait for its result.
 */
export async function synthesizedPlatform(config: PlatformConfig): Promise<SynthesizedPlatform> {
  const key = cacheKey(config);
  const file = path.join(CACHE_DIR, `${key}.json`);
  const lock = `${file}.lock`;
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  for (;;) {
    const cached = readIfPresent(file);
    if (cached) return cached;
    if (takeLock(lock)) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  try {
    const cached = readIfPresent(file);
    if (cached) return cached;
    const configFile = path.join(os.tmpdir(), `platform-config-${key}-${process.pid}.json`);
    const partial = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(configFile, JSON.stringify(config));
    try {
      await synthesize(configFile, partial);
      fs.renameSync(partial, file);
    } finally {
      fs.rmSync(configFile, { force: true });
      fs.rmSync(partial, { force: true });
    }
    return readIfPresent(file)!;
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

function cacheKey(config: PlatformConfig): string {
  const hash = createHash('sha256').update(JSON.stringify(config));
  const files: string[] = [];
  const walk = (entry: string) => {
    const full = path.join(ROOT, entry);
    if (fs.statSync(full).isDirectory()) {
      for (const name of fs.readdirSync(full).sort()) {
        if (name !== 'node_modules') walk(path.join(entry, name));
      }
    } else if (/\.(ts|json)$/.test(entry)) {
      files.push(entry);
    }
  };
  for (const input of INPUTS) walk(input);
  for (const file of files) hash.update(file).update(fs.readFileSync(path.join(ROOT, file)));
  return hash.digest('hex').slice(0, 32);
}

function readIfPresent(file: string): SynthesizedPlatform | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as SynthesizedPlatform;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function takeLock(lock: string): boolean {
  try {
    fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > STALE_LOCK_MS) fs.rmSync(lock, { force: true });
    return false;
  }
}

function synthesize(configFile: string, outFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SYNTH, configFile, outFile], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(
            new Error(`synthesizing the platform for local mode failed (exit ${code}): ${stderr.trim()}`),
          ),
    );
  });
}
