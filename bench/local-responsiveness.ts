// How the local API answers while local mode works (run by bench/run.ts in a process of its own):
// a client polls GET /v1/images/{id} while a 500-file, 263 MB CT converts, and GET /v1/jobs/{id}
// while a job reads that image, as a user's script would. Each read's latency is kept, and the
// longest stall of the process's event loop, which serves the API and the stand-ins.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { CT_SIZE, ctSlice } from './ct-series';
import { defaultPlatformConfig } from '../lib/config/platform-config';
import { findContainerEngine } from '../local/jobs/container-engine';
import { buildNodeImage } from '../local/jobs/node-image-builder';
import { localOptionsFromEnvironment } from '../local/local-options';
import { startLocalPlatform } from '../local/local-platform';
import { freeLocalPorts } from '../test/helpers/free-ports';

/** Uploads in flight at once, as grand-challenge's client sends them. */
const UPLOADS_IN_FLIGHT = 8;
/** Pause between two reads of a poller, as a client's loop has. */
const POLL_PAUSE_MS = 50;
/** The p95 a request may take while local mode works, as a deployed API answers. */
const LATENCY_TARGET_MS = 100;

const headers = { authorization: 'Bearer dev-alice', 'content-type': 'application/json' };

interface Poll {
  readonly latencies: number[];
  readonly seconds: number;
  readonly last: { status: string; statusReason?: string };
}

/** Reads `url` until its `status` is one of `ended`: each read's latency, and the last answer. */
async function pollUntil(url: string, ended: readonly string[]): Promise<Poll> {
  const latencies: number[] = [];
  const started = performance.now();
  for (;;) {
    const sent = performance.now();
    const response = await fetch(url, { headers });
    const body = (await response.json()) as { status: string; statusReason?: string };
    latencies.push(performance.now() - sent);
    if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
    if (ended.includes(body.status)) {
      return { latencies, seconds: (performance.now() - started) / 1000, last: body };
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_PAUSE_MS));
  }
}

function report(label: string, poll: Poll, loopMaxMs: number): void {
  const sorted = [...poll.latencies].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  const p95 = at(0.95);
  console.log(
    `${label.padEnd(38)} ${poll.seconds.toFixed(1).padStart(5)} s, ${String(sorted.length).padStart(4)} reads: ` +
      `p50 ${at(0.5).toFixed(0)} ms, p95 ${p95.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms ` +
      `(${p95 < LATENCY_TARGET_MS ? 'within' : 'OVER'} the ${LATENCY_TARGET_MS} ms p95 target); ` +
      `longest event-loop stall ${loopMaxMs.toFixed(0)} ms`,
  );
}

/** The CT as 500 DICOM files, one per slice. */
function ctSeries(): Buffer[] {
  return Array.from({ length: CT_SIZE[2] }, (_, k) => ctSlice(k, '1.2.826.0.1.3680043.8.498.77'));
}

/** Reads an item that does not exist, so that its operation's function is warm. */
async function warm(collection: string): Promise<void> {
  const response = await fetch(`${collection}/00000000-0000-4000-8000-000000000000`, { headers });
  if (response.status !== 404) throw new Error(`GET ${collection}/... answered ${response.status}`);
}

/** Uploads one file through the API, in one part, and completes it; its id. */
async function upload(api: string, name: string, data: Buffer): Promise<string> {
  const post = async (route: string, body: unknown) => {
    const response = await fetch(`${api}${route}`, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`POST ${route} answered ${response.status}: ${await response.text()}`);
    return response.json() as Promise<unknown>;
  };
  const created = (await post('/uploads', { filename: name, size: data.length })) as { id: string };
  const signed = (await post(`/uploads/${created.id}/parts`, { partNumbers: [1] })) as {
    parts: { url: string }[];
  };
  const put = await fetch(signed.parts[0].url, { method: 'PUT', body: data });
  if (!put.ok) throw new Error(`the part upload answered ${put.status}`);
  await post(`/uploads/${created.id}/complete`, {
    parts: [{ partNumber: 1, etag: put.headers.get('etag') }],
  });
  return created.id;
}

export async function benchLocalResponsiveness(): Promise<void> {
  console.log(
    `\n## Local API while local mode works (${os.cpus().length} cores; one read in flight, ${POLL_PAUSE_MS} ms apart)`,
  );
  const engine = findContainerEngine();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-responsiveness-'));
  const base = localOptionsFromEnvironment({ LOCAL_DATA_DIR: path.join(work, 'data') });
  const platform = await startLocalPlatform({
    ...base,
    config: defaultPlatformConfig,
    ports: await freeLocalPorts(),
    jobs: engine ? 'run' : 'record',
  });
  const loop = monitorEventLoopDelay({ resolution: 10 });
  try {
    const api = `${platform.urls.api}/v1`;
    const series = ctSeries();
    const bytes = series.reduce((sum, file) => sum + file.length, 0);
    const uploads: string[] = new Array(series.length);
    let next = 0;
    const uploadStarted = performance.now();
    await Promise.all(
      Array.from({ length: UPLOADS_IN_FLIGHT }, async () => {
        while (next < series.length) {
          const i = next++;
          uploads[i] = await upload(api, `IM${String(i).padStart(4, '0')}.dcm`, series[i]);
        }
      }),
    );
    console.log(
      `uploaded ${series.length} files (${(bytes / 1e6).toFixed(0)} MB), ${UPLOADS_IN_FLIGHT} in flight, in ${((performance.now() - uploadStarted) / 1000).toFixed(1)} s`,
    );

    // Warm sandboxes, as a platform in use has: cold starts are not what this measures.
    await warm(`${api}/images`);
    await warm(`${api}/jobs`);
    const created = await fetch(`${api}/images`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ uploads }),
    });
    if (created.status !== 201)
      throw new Error(`POST /images answered ${created.status}: ${await created.text()}`);
    const image = (await created.json()) as { id: string };
    loop.enable();
    const conversion = await pollUntil(`${api}/images/${image.id}`, ['Succeeded', 'Failed']);
    loop.disable();
    if (conversion.last.status !== 'Succeeded') {
      throw new Error(`the CT was not converted: ${JSON.stringify(conversion.last)}`);
    }
    report('GET /v1/images/{id} during its conversion', conversion, loop.max / 1e6);

    if (!engine) {
      console.log('no container engine answers: no job figures (Debian: apt-get install podman runc)');
      return;
    }
    // An algorithm that reads its whole input, as one that loads the volume would.
    const script = path.join(work, 'main.js');
    fs.writeFileSync(
      script,
      [
        "const fs = require('node:fs');",
        "const dir = '/input/images/ct';",
        'let bytes = 0;',
        'for (const name of fs.readdirSync(dir)) bytes += fs.readFileSync(`${dir}/${name}`).length;',
        "fs.writeFileSync('/output/results.json', JSON.stringify({ bytes }));",
        '',
      ].join('\n'),
    );
    const algorithmImage = await buildNodeImage(engine, {
      tag: 'localhost/bench-reads-its-input:latest',
      files: { '/opt/algorithm/main.js': script },
      user: '1000:1000',
      entrypoint: ['/usr/local/bin/node', '/opt/algorithm/main.js'],
    });
    const algorithm = (await (
      await fetch(`${api}/algorithms`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          title: 'Reads its input',
          image: algorithmImage,
          interfaces: [
            {
              inputs: [{ slug: 'ct-image', kind: 'image', relativePath: 'images/ct' }],
              outputs: [{ slug: 'results', kind: 'json', relativePath: 'results.json' }],
            },
          ],
        }),
      })
    ).json()) as { id: string };
    const submitted = await fetch(`${api}/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ algorithm: algorithm.id, inputs: [{ socket: 'ct-image', image: image.id }] }),
    });
    if (submitted.status !== 201)
      throw new Error(`POST /jobs answered ${submitted.status}: ${await submitted.text()}`);
    const job = (await submitted.json()) as { id: string };
    loop.reset();
    loop.enable();
    const run = await pollUntil(`${api}/jobs/${job.id}`, ['Succeeded', 'Failed', 'Cancelled']);
    loop.disable();
    if (run.last.status !== 'Succeeded')
      throw new Error(`the job did not succeed: ${JSON.stringify(run.last)}`);
    report('GET /v1/jobs/{id} while it runs', run, loop.max / 1e6);
  } finally {
    await platform.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  benchLocalResponsiveness().catch((err: Error) => {
    console.error(err.stack);
    process.exit(1);
  });
}
