// `npm run viewer-region`: finds the viewer region nearest to this machine as a client should:
// each region's ping URL fetched twice, the faster of the two kept, the lowest figure chosen.
// Prints each region's figure and, last, the region to name in `POST /v1/sessions`.
import { parseArgs } from 'node:util';
import { API_ACCESS_USAGE, apiAccess } from '../api-access';

const USAGE = `usage: npm run viewer-region -- [--api <url>] [--token <token>]

${API_ACCESS_USAGE}`;

/** A region as `GET /v1/viewer-regions` lists it. */
interface ListedRegion {
  readonly region: string;
  readonly available: boolean;
  readonly pingUrl?: string;
}

export interface RegionLatency {
  readonly region: string;
  /** The faster of two pings, in milliseconds; undefined where the region cannot be reached. */
  readonly milliseconds?: number;
  readonly problem?: string;
}

/** Milliseconds one ping takes, or throws naming why it failed. */
async function ping(url: string, timeoutMs: number): Promise<number> {
  const started = performance.now();
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return performance.now() - started;
}

/**
 * Each available region's latency (the faster of two pings, as grand-challenge's client
 * measures), fastest first; regions that are not deployed or do not answer come last, saying why.
 */
export async function measureViewerRegions(
  regions: readonly ListedRegion[],
  timeoutMs = 5000,
): Promise<RegionLatency[]> {
  const measured = await Promise.all(
    regions.map(async ({ region, available, pingUrl }): Promise<RegionLatency> => {
      if (!available || !pingUrl) return { region, problem: 'no viewer deployed there' };
      try {
        const first = await ping(pingUrl, timeoutMs);
        const second = await ping(pingUrl, timeoutMs);
        return { region, milliseconds: Math.min(first, second) };
      } catch (err) {
        return { region, problem: (err as Error).message };
      }
    }),
  );
  return measured.sort((a, b) => (a.milliseconds ?? Infinity) - (b.milliseconds ?? Infinity));
}

/** Lists, measures and prints; resolves with the exit code (1 when no region answers). */
export async function viewerRegion(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: { out: (line: string) => void; err: (line: string) => void },
): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { api: { type: 'string' }, token: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    io.err(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { api, token } = apiAccess(values, env);
  if (values.help || !token) {
    io.err(
      values.help
        ? USAGE
        : `no token: pass --token, or set AUTH to "Authorization: Bearer <token>"\n${USAGE}`,
    );
    return 2;
  }
  const response = await fetch(`${api}/viewer-regions`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await response.json()) as { regions?: ListedRegion[]; error?: { message: string } };
  if (!response.ok || !body.regions) {
    io.err(`GET /v1/viewer-regions answered ${response.status}: ${body.error?.message ?? 'no regions'}`);
    return 1;
  }
  const measured = await measureViewerRegions(body.regions);
  for (const { region, milliseconds, problem } of measured) {
    io.out(`${region}: ${milliseconds === undefined ? problem : `${milliseconds.toFixed(1)} ms`}`);
  }
  if (measured[0]?.milliseconds === undefined) {
    io.err('no viewer region answered');
    return 1;
  }
  io.out(`nearest: ${measured[0].region}`);
  return 0;
}

if (require.main === module) {
  viewerRegion(process.argv.slice(2), process.env, {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  }).then(
    (code) => (process.exitCode = code),
    (err: Error) => {
      console.error(err.message);
      process.exitCode = 1;
    },
  );
}
