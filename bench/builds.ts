// Figures of algorithm builds in local mode (run by bench/run.ts in a process of its own): the
// example algorithm's folder pushed through the API until it is the active version, split into
// the upload, the wait for the pipeline, the builder's phases (extract, the author's build, the
// runner layer) and the checks with the registration.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packBuildContext } from '../bin/builds/build-context';
import { buildExampleBaseImage } from '../local/builds/example-base-image';
import { findContainerEngine } from '../local/jobs/container-engine';
import { defaultPlatformConfig } from '../lib/config/platform-config';
import { localOptionsFromEnvironment } from '../local/local-options';
import { startLocalPlatform } from '../local/local-platform';
import { freeLocalPorts } from '../test/helpers/free-ports';

const RUNS = 3;
const EXAMPLE = path.join(__dirname, '..', 'containers', 'algorithms', 'example-threshold');
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

interface Figures {
  upload: number;
  waiting: number;
  extract: number;
  build: number;
  runnerLayer: number;
  checks: number;
  total: number;
}

export async function benchBuilds(): Promise<void> {
  console.log(
    `\n## Builds in local mode: the example algorithm from push to active version (median of ${RUNS})`,
  );
  const engine = findContainerEngine();
  if (!engine) {
    console.log('no container engine answers: no figures (Debian: apt-get install podman runc)');
    return;
  }
  await buildExampleBaseImage(engine);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-builds-'));
  const base = localOptionsFromEnvironment({ LOCAL_DATA_DIR: path.join(work, 'data') });
  const platform = await startLocalPlatform({
    ...base,
    config: defaultPlatformConfig,
    ports: await freeLocalPorts(),
    jobs: 'record',
  });
  const api = `${platform.urls.api}/v1`;
  const headers = { authorization: 'Bearer dev-alice', 'content-type': 'application/json' };
  const call = async (method: string, route: string, body?: unknown) => {
    const response = await fetch(`${api}${route}`, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const answer = (await response.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  };
  const images: string[] = [];
  try {
    // Packed as `npm run push-algorithm` packs a folder.
    const archive = path.join(work, 'context.tar.gz');
    await packBuildContext(EXAMPLE, archive);
    const context = fs.readFileSync(archive);
    const runs: Figures[] = [];
    for (let run = 0; run < RUNS; run++) {
      const algorithm = await call('POST', '/algorithms', {
        title: 'Threshold',
        interfaces: [
          {
            inputs: [{ slug: 'threshold', kind: 'json', relativePath: 'threshold.json' }],
            outputs: [{ slug: 'results', kind: 'json', relativePath: 'results.json' }],
          },
        ],
      });
      const started = performance.now();
      const { build, upload } = await call('POST', `/algorithms/${algorithm.id}/builds`, {
        filename: 'context.tar.gz',
        size: context.length,
      });
      const { parts } = await call('POST', `/uploads/${upload.id}/parts`, { partNumbers: [1] });
      const put = await fetch(parts[0].url, { method: 'PUT', body: context });
      await call('POST', `/uploads/${upload.id}/complete`, {
        parts: [{ partNumber: 1, etag: put.headers.get('etag') }],
      });
      const uploaded = performance.now();
      // Read often, so that the moment each state is first seen is close to when it began.
      const seen: Record<string, number> = {};
      let read: Awaited<ReturnType<typeof call>>;
      for (;;) {
        read = await call('GET', `/algorithms/${algorithm.id}/builds/${build.id}`);
        seen[read.status] ??= performance.now();
        if (['Succeeded', 'Failed', 'Cancelled'].includes(read.status)) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (read.status !== 'Succeeded')
        throw new Error(`the build ended ${read.status}: ${read.statusDetail}`);
      images.push(`localhost/local/algorithms:version-${read.versionId}`);
      const phase = (name: string) => read.phaseSeconds?.[name] ?? 0;
      runs.push({
        upload: (uploaded - started) / 1000,
        waiting: ((seen.Building ?? uploaded) - uploaded) / 1000,
        extract: phase('extract'),
        build: phase('build'),
        runnerLayer: phase('runner-layer'),
        checks: (seen.Succeeded - (seen.Checking ?? seen.Succeeded)) / 1000,
        total: (seen.Succeeded - started) / 1000,
      });
    }
    const s = (key: keyof Figures) => `${median(runs.map((r) => r[key])).toFixed(2)} s`;
    console.log(
      `context ${(context.length / 1024).toFixed(1)} KiB: push to active version ${s('total')}: ` +
        `upload ${s('upload')}, queue and pipeline start ${s('waiting')}, extract ${s('extract')}, ` +
        `the author's build ${s('build')}, runner layer ${s('runnerLayer')}, ` +
        `checks and registration ${s('checks')} (as a client polling every 50 ms sees them)`,
    );
  } finally {
    await platform.stop();
    fs.rmSync(work, { recursive: true, force: true });
    if (images.length > 0) execFileSync(engine.command, ['rmi', '--force', ...images], { stdio: 'ignore' });
  }
}

if (require.main === module) {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  benchBuilds().catch((err: Error) => {
    console.error(err.stack);
    process.exit(1);
  });
}
