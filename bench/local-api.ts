// Figures of the local API: bundle size and cold load of each handler, and latency and
// throughput of job submission and reads under a bounded concurrent load.
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultPlatformConfig } from '../lib/config/platform-config';
import { localOptionsFromEnvironment } from '../local/local-options';
import { API_OPERATIONS, BACKGROUND_FUNCTIONS } from '../lambda/deployments';
import { startLocalPlatform } from '../local/local-platform';
import { freeLocalPorts } from '../test/helpers/free-ports';

const LAMBDA_DIR = path.join(__dirname, '..', 'lambda');
const CONCURRENCY = 8;
const SUBMISSIONS = 400;
const READS = 1000;

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

/** Bundles each handler as the api stack does (esbuild, minified, CommonJS) and loads it cold. */
async function benchHandlers(
  environments: ReadonlyMap<string, Readonly<Record<string, string>>>,
): Promise<void> {
  console.log('\n## Handlers: bundle size and cold module load (fresh Node.js process, median of 5)');
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-bundles-'));
  const deployments = [...API_OPERATIONS, ...BACKGROUND_FUNCTIONS].sort((a, b) =>
    a.handler.localeCompare(b.handler),
  );
  for (const deployment of deployments) {
    const folder = deployment.handler;
    const outfile = path.join(outDir, `${path.basename(folder)}.js`);
    await build({
      entryPoints: [path.join(LAMBDA_DIR, folder, 'index.ts')],
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      // As its function is bundled: native libraries such as libvips left out.
      external: 'externalModules' in deployment ? [...(deployment.externalModules ?? [])] : [],
      outfile,
      logLevel: 'silent',
    });
    const loads: number[] = [];
    for (let i = 0; i < 5; i++) {
      const run = spawnSync(
        process.execPath,
        [
          '-e',
          `const t=performance.now();require(${JSON.stringify(outfile)});process.stdout.write(String(performance.now()-t))`,
        ],
        // The function's own environment, which it checks when it loads.
        { env: { ...process.env, ...environments.get(folder) }, encoding: 'utf8' },
      );
      if (run.status !== 0) throw new Error(`${folder} failed to load: ${run.stderr}`);
      loads.push(Number(run.stdout));
    }
    loads.sort((a, b) => a - b);
    console.log(
      `${folder.padEnd(26)} ${kib(fs.statSync(outfile).size).padStart(10)}   load ${loads[2].toFixed(1)} ms`,
    );
  }
  fs.rmSync(outDir, { recursive: true, force: true });
}

async function runBounded<T>(
  count: number,
  work: (i: number) => Promise<T>,
): Promise<{ results: T[]; seconds: number }> {
  const results: T[] = new Array(count);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await work(i);
      }
    }),
  );
  return { results, seconds: (performance.now() - started) / 1000 };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function report(name: string, latencies: number[], seconds: number): void {
  const sorted = [...latencies].sort((a, b) => a - b);
  console.log(
    `${name.padEnd(22)} n=${latencies.length}  p50 ${percentile(sorted, 50).toFixed(1)} ms  p99 ${percentile(sorted, 99).toFixed(1)} ms  ` +
      `${(latencies.length / seconds).toFixed(0)} requests/s`,
  );
}

export async function benchLocalApi(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-api-'));
  const base = localOptionsFromEnvironment({ LOCAL_DATA_DIR: dataDir });
  const limits = {
    ...defaultPlatformConfig.limits,
    activeJobsPerUser: 10_000,
    activeJobsPerAlgorithm: 10_000,
    activeJobsTotal: 10_000,
  };
  const platform = await startLocalPlatform({
    ...base,
    config: { ...defaultPlatformConfig, limits },
    ports: await freeLocalPorts(),
    // Submission is measured here, not the algorithms' runs.
    jobs: 'record',
  });
  // As a shell with the variables `npm start` prints: this script's clients reach the embedded services.
  Object.assign(process.env, platform.environment);
  try {
    await benchHandlers(platform.functions.environments);

    const headers = { authorization: 'Bearer dev-alice', 'content-type': 'application/json' };
    const api = `${platform.urls.api}/v1`;
    const algorithm = (await (
      await fetch(`${api}/algorithms`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          title: 'Bench',
          interfaces: [
            {
              inputs: [{ slug: 'value', kind: 'json', relativePath: 'value.json' }],
              outputs: [{ slug: 'results', kind: 'json', relativePath: 'results.json' }],
            },
          ],
          // The API is measured, not the run: an image by digest that is never pulled.
          image: `123456789012.dkr.ecr.eu-central-1.amazonaws.com/bench@sha256:${'0'.repeat(64)}`,
        }),
      })
    ).json()) as { id: string };

    console.log(
      `\n## Local API under load (${CONCURRENCY} concurrent clients, ${os.cpus().length} cores, one process)`,
    );
    const submitted = await runBounded(SUBMISSIONS, async (i) => {
      const started = performance.now();
      const response = await fetch(`${api}/jobs`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ algorithm: algorithm.id, inputs: [{ socket: 'value', value: i }] }),
      });
      const body = (await response.json()) as { id: string };
      return { ms: performance.now() - started, status: response.status, id: body.id };
    });
    report(
      'POST /v1/jobs',
      submitted.results.map((r) => r.ms),
      submitted.seconds,
    );

    const ids = submitted.results.filter((r) => r.status === 201).map((r) => r.id);
    const reads = await runBounded(READS, async (i) => {
      const started = performance.now();
      const response = await fetch(`${api}/jobs/${ids[i % ids.length]}`, { headers });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`GET answered ${response.status}`);
      return performance.now() - started;
    });
    report('GET /v1/jobs/{id}', reads.results, reads.seconds);

    const dynamodb = new DynamoDBClient({});
    let recorded = 0;
    let startKey: Record<string, never> | undefined;
    do {
      const page = await dynamodb.send(
        new ScanCommand({
          TableName: platform.settings.jobsTable,
          Select: 'COUNT',
          ExclusiveStartKey: startKey,
        }),
      );
      recorded += page.Count ?? 0;
      startKey = page.LastEvaluatedKey as Record<string, never> | undefined;
    } while (startKey);
    dynamodb.destroy();
    const accepted = ids.length;
    const verdict =
      accepted === SUBMISSIONS && recorded === SUBMISSIONS ? 'all recorded' : 'MISSING SUBMISSIONS';
    console.log(
      `concurrent submissions: ${SUBMISSIONS} sent, ${accepted} accepted, ${recorded} recorded: ${verdict}`,
    );
  } finally {
    await platform.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
