import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PlatformConfig } from '../../lib/config/platform-config';
import { LocalPlatformOptions, localOptionsFromEnvironment } from '../../local/local-options';
import { LocalPlatform, startLocalPlatform } from '../../local/local-platform';
import { freeLocalPorts } from './free-ports';

/**
 * Local mode in-process on free ports, with its data in a fresh temporary folder and the given
 * limits. Jobs are only recorded unless `jobs: 'run'` asks for them to run in a container engine.
 */
export async function startTestPlatform(
  limits: Partial<PlatformConfig['limits']> = {},
  jobs: Pick<LocalPlatformOptions, 'jobs' | 'jobGraceSeconds'> = { jobs: 'record' },
): Promise<LocalPlatform> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imaging-platform-'));
  const options = localOptionsFromEnvironment({ LOCAL_DATA_DIR: dataDir });
  const config = { ...options.config, limits: { ...options.config.limits, ...limits } };
  return startLocalPlatform({ ...options, ...jobs, config, ports: await freeLocalPorts() });
}
