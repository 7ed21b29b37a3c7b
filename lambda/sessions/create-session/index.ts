import { randomUUID } from 'node:crypto';
import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { VIEWER_SESSIONS } from '../../contracts/viewer-sessions';
import { sessionImages, SessionImagesRequest } from '../session-images';
import {
  nowSeconds,
  SESSION_RECORD_DAYS,
  SESSION_START_SECONDS,
  SessionRecord,
  sessionView,
  startingStatus,
} from '../session-record';
import { sessionCredential } from '../session-signer';
import { claimSessionSlots, releaseSessionSlots } from '../session-slots';
import { putSession } from '../session-store';
import { viewerOriginIn } from '../viewer-endpoints';
import { FleetWake, wakeViewerFleet } from '../viewer-fleets';
import { logger } from '../../core/logger';
import { operation } from './operation';

parseEnvironment(operation);

const settings = VIEWER_SESSIONS.read();

/**
 * `POST /v1/sessions`: places the session in the region the caller names (the first viewer region
 * otherwise), checks the images (the caller's, converted), takes a slot of the caller's and of the
 * region's session limits, records the session for 10 minutes and answers it with its signed
 * credential. Any failure after a slot was taken gives the slots back. A region whose fleet has no
 * host gets one started at once, and the session is Queued until its reader connects; otherwise
 * it is Started (where a viewer is configured for every region, there is no fleet to wake).
 */
export const handler = apiHandler<SessionImagesRequest & { region?: string }>(
  operation,
  async ({ caller, body }) => {
    const region = body.region ?? settings.viewerRegions[0];
    const viewerOrigin = await viewerOriginIn(region);
    const { images, job } = await sessionImages(body, caller.userId);
    const now = nowSeconds();
    const id = randomUUID();
    const expiresAt = now + SESSION_START_SECONDS;
    const maxExpiresAt = now + settings.viewerSessionMaxSeconds;
    const slots = await claimSessionSlots(id, caller.userId, region, settings, expiresAt, now);
    try {
      const wake = settings.viewerOrigin ? undefined : await wakeFleetOf(region);
      const at = new Date(now * 1000).toISOString();
      const session: SessionRecord = {
        id,
        owner: caller.userId,
        ...startingStatus(wake, region),
        region,
        viewerOrigin,
        images,
        ...(job && { job }),
        slots,
        expiresAt,
        maxExpiresAt,
        purgeAt: maxExpiresAt + SESSION_RECORD_DAYS * 86_400,
        createdAt: at,
        updatedAt: at,
      };
      const credential = await sessionCredential(session, now);
      await putSession(session);
      return { status: 201, body: sessionView(session, now, credential) };
    } catch (err) {
      await releaseSessionSlots(id, slots);
      throw err;
    }
  },
);

/**
 * The session stands whatever waking its fleet does: should the call fail, the fleet's `NoHost`
 * alarm starts a host when the client meets the load balancer's 503, a minute or two later.
 */
async function wakeFleetOf(region: string): Promise<FleetWake | undefined> {
  try {
    const wake = await wakeViewerFleet(region);
    if (wake !== 'running') logger.info('viewer fleet woken', { region, wake });
    return wake;
  } catch (err) {
    logger.warn('the viewer fleet could not be woken; its NoHost alarm will start a host', {
      region,
      error: err as Error,
    });
    return undefined;
  }
}
