import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PlatformConfig } from '../../lib/config/platform-config';
import { LocalPlatformOptions, localOptionsFromEnvironment } from '../../local/local-options';
import { LocalPlatform, startLocalPlatform } from '../../local/local-platform';
import { freeLocalPorts } from './free-ports';

/**
 * Local mode in-process on free ports, with its data in a fresh temporary folder and the given
 * limits and conversion settings. Jobs are only recorded unless `jobs: 'run'` asks for them to
 * run in a container engine.
 */
export async function startTestPlatform(
  limits: Partial<PlatformConfig['limits']> = {},
  options: Pick<LocalPlatformOptions, 'jobs' | 'jobGraceSeconds' | 'templates'> & {
    conversion?: Partial<PlatformConfig['conversion']>;
  } = {},
): Promise<LocalPlatform> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imaging-platform-'));
  const base = localOptionsFromEnvironment({ LOCAL_DATA_DIR: dataDir });
  const config = {
    ...base.config,
    limits: { ...base.config.limits, ...limits },
    conversion: { ...base.config.conversion, ...options.conversion },
  };
  const platform = await startLocalPlatform({
    ...base,
    jobs: options.jobs ?? 'record',
    jobGraceSeconds: options.jobGraceSeconds,
    templates: options.templates,
    config,
    ports: await freeLocalPorts(),
  });
  // As a shell with the variables `npm start` prints: the tests' own AWS clients reach the embedded services.
  Object.assign(process.env, platform.environment);
  return platform;
}
