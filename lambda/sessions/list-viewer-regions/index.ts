import { apiHandler } from '../../api/api-handler';
import { ApiError } from '../../api/api-error';
import { parseEnvironment } from '../../contracts/handler-environment';
import { VIEWER_HOST } from '../../contracts/viewer-host';
import { VIEWER_SESSIONS } from '../../contracts/viewer-sessions';
import { viewerOriginIn } from '../viewer-endpoints';
import { operation } from './operation';

parseEnvironment(operation);

const settings = VIEWER_SESSIONS.read();

/**
 * `GET /v1/viewer-regions`: every viewer region, in the configuration's order (the first is where
 * a session without a region goes), with its ping URL once its viewer is deployed.
 */
export const handler = apiHandler(operation, async () => {
  const regions = await Promise.all(
    settings.viewerRegions.map(async (region) => {
      try {
        const origin = await viewerOriginIn(region);
        return { region, available: true, pingUrl: `${origin}${VIEWER_HOST.pingPath}` };
      } catch (err) {
        // Not deployed there yet: listed, so the client sees why it is not offered.
        if (err instanceof ApiError && err.status === 503) return { region, available: false };
        throw err;
      }
    }),
  );
  return { status: 200, body: { defaultRegion: settings.viewerRegions[0], regions } };
});
