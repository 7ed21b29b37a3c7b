import * as z from 'zod/mini';
import { list, settingsGroup, text, wholeNumber } from './settings';

/** An origin such as `https://viewer.example.org`, or empty where no viewer is deployed. */
const viewerOrigin = z
  .string()
  .check(
    z.regex(/^(https?:\/\/[^/\s]+)?$/, 'must be an origin such as https://viewer.example.org, or empty'),
  );

/**
 * Where viewer sessions are placed and how long and how many they may be: the viewer regions (the
 * first is where a session goes when its caller names none), the viewer every region's sessions
 * open in when one is configured (empty: each region's own fleet, whose origin is published in
 * the SSM parameter named here, in that region), how the fleets are found, and the limits of the
 * configuration.
 */
export const VIEWER_SESSIONS = settingsGroup('the viewer sessions', {
  viewerOrigin,
  viewerRegions: list,
  viewerEndpointParameterName: text,
  /** The value of VIEWER_FLEET_TAG on the regions' fleets: a session in an empty fleet wakes it. */
  viewerFleetName: text,
  viewerSessionsPerUser: wholeNumber,
  viewerSessionsPerRegion: wholeNumber,
  viewerSessionMaxSeconds: wholeNumber,
});

/** The secret that holds the Ed25519 private key (PEM) session credentials are signed with. */
export const SESSION_SIGNING_KEY = settingsGroup('the session signing key', {
  sessionSigningKeySecretArn: text,
});
