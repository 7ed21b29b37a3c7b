import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { badRequest, serviceUnavailable } from '../api/api-error';
import { VIEWER_SESSIONS } from '../contracts/viewer-sessions';
import { regionalClient } from '../core/aws-clients';

/** How long a region's viewer origin is kept: a redeployed fleet is found within this. */
const CACHE_MS = 5 * 60_000;

const known = new Map<string, { origin: string; readAtMs: number }>();

/**
 * The viewer origin of `region`: the configured viewer's (`viewer.url`) where there is one,
 * otherwise the origin that region's fleet publishes in its SSM parameter, kept for minutes. A
 * region that is not a viewer region is a bad request; one whose fleet is not deployed (yet),
 * a 503 naming it.
 */
export async function viewerOriginIn(region: string): Promise<string> {
  const settings = VIEWER_SESSIONS.read();
  if (!settings.viewerRegions.includes(region)) {
    throw badRequest(`region ${region} runs no viewer: choose one of ${settings.viewerRegions.join(', ')}`);
  }
  if (settings.viewerOrigin) return settings.viewerOrigin;
  const cached = known.get(region);
  if (cached && Date.now() - cached.readAtMs < CACHE_MS) return cached.origin;
  const client = regionalClient(SSMClient, region);
  try {
    const { Parameter } = await client.send(
      new GetParameterCommand({ Name: settings.viewerEndpointParameterName }),
    );
    const origin = Parameter?.Value ?? '';
    if (!/^https:\/\/[^/\s]+$/.test(origin)) {
      throw new Error(
        `${settings.viewerEndpointParameterName} in ${region} holds no https origin: ${origin}`,
      );
    }
    known.set(region, { origin, readAtMs: Date.now() });
    return origin;
  } catch (err) {
    if (err instanceof ParameterNotFound) {
      throw serviceUnavailable(
        `no viewer is deployed in ${region} yet: deploy its viewer stack to start sessions there`,
      );
    }
    throw err;
  }
}
