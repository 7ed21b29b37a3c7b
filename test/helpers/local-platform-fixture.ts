import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PlatformConfig } from '../../lib/config/platform-config';
import { localOptionsFromEnvironment } from '../../local/local-options';
import { LocalPlatform, startLocalPlatform } from '../../local/local-platform';
import { freeLocalPorts } from './free-ports';

/**
 * Local mode in-process on free ports, with its data in a fresh temporary folder and the given
 * limits and conversion settings.
 */
export async function startTestPlatform(
  limits: Partial<PlatformConfig['limits']> = {},
  conversion: Partial<PlatformConfig['conversion']> = {},
): Promise<LocalPlatform> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imaging-platform-'));
  const options = localOptionsFromEnvironment({ LOCAL_DATA_DIR: dataDir });
  const config = {
    ...options.config,
    limits: { ...options.config.limits, ...limits },
    conversion: { ...options.config.conversion, ...conversion },
  };
  return startLocalPlatform({ ...options, config, ports: await freeLocalPorts() });
}
