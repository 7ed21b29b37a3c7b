import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PlatformConfig } from '../../lib/config/platform-config';
import { LocalPlatformOptions, localOptionsFromEnvironment } from '../../local/local-options';
import { LocalPlatform, startLocalPlatform } from '../../local/local-platform';
import { EXACT_DELIVERY } from '../../local/services/delivery';
import { freeLocalPorts } from './free-ports';

/**
 * Local mode in-process on free ports, with its data in a fresh temporary folder (or `dataDir`,
 * to start again on what an earlier run left) and the given limits and conversion settings. Jobs
 * are only recorded unless `jobs: 'run'` asks for them to run in a container engine. Queues and
 * events are delivered exactly once in order unless `delivery` says otherwise.
 */
export async function startTestPlatform(
  limits: Partial<PlatformConfig['limits']> = {},
  options: Pick<
    LocalPlatformOptions,
    | 'jobs'
    | 'jobGraceSeconds'
    | 'templates'
    | 'delivery'
    | 'conversionVisibilityTimeoutSeconds'
    | 'buildTimeoutSeconds'
  > & {
    conversion?: Partial<PlatformConfig['conversion']>;
    dataDir?: string;
  } = {},
): Promise<LocalPlatform> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'imaging-platform-'));
  const base = localOptionsFromEnvironment({ LOCAL_DATA_DIR: dataDir });
  const config = {
    ...base.config,
    limits: { ...base.config.limits, ...limits },
    conversion: { ...base.config.conversion, ...options.conversion },
  };
  const start = async () =>
    startLocalPlatform({
      ...base,
      jobs: options.jobs ?? 'record',
      jobGraceSeconds: options.jobGraceSeconds,
      delivery: { seed: 1, ...EXACT_DELIVERY, ...options.delivery },
      conversionVisibilityTimeoutSeconds: options.conversionVisibilityTimeoutSeconds,
      buildTimeoutSeconds: options.buildTimeoutSeconds,
      templates: options.templates,
      config,
      ports: await freeLocalPorts(),
    });
  let platform: LocalPlatform | undefined;
  for (let attempt = 1; !platform; attempt++) {
    try {
      platform = await start();
    } catch (err) {
      // A port found free can be taken by another process (an outgoing connection of another test
      // file) before the platform listens on it; the platform stopped what it started, so try
      // again on other ports.
      const taken = /EADDRINUSE|already in use/.test((err as Error).message);
      if (!taken || attempt >= 3) throw err;
    }
  }
  // As a shell with the variables `npm start` prints: the tests' own AWS clients reach the embedded services.
  Object.assign(process.env, platform.environment);
  return platform;
}
