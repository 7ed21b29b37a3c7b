import * as z from 'zod/mini';
import { settingsGroup, text, wholeNumber } from '../../../lambda/contracts/settings';

/** Zero or more. */
const count = z.pipe(
  z.string().check(z.regex(/^\d{1,6}$/, 'must be a whole number, 0 or more')),
  z.transform(Number),
);

/**
 * What the host's supervisor needs beyond `VIEWER_HOST_SETTINGS`: where its container engine is,
 * the image its sessions run from, how many session viewers it keeps started ahead, and when a
 * session with no reader ends.
 */
export const VIEWER_SUPERVISOR_SETTINGS = settingsGroup('the viewer host supervisor', {
  /** The container engine's API socket (Docker's `/var/run/docker.sock` on a viewer host). */
  containerEngineSocket: text,
  /** The image session viewers run from: the host's own image, by its URI in the region's registry. */
  sessionImage: text,
  /** Session viewers started ahead, so that a new session finds one ready. */
  warmSessionViewers: count,
  /** Seconds a session's viewer waits with no socket open before it ends. */
  sessionIdleSeconds: wholeNumber,
});

/** What each session viewer is started with beyond `VIEWER_HOST_SETTINGS`. */
export const SESSION_VIEWER_SETTINGS = settingsGroup('a session viewer', {
  sessionIdleSeconds: wholeNumber,
});
