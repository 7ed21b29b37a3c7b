import * as z from 'zod/mini';
import { settingsGroup, text, wholeNumber } from './settings';

/** An origin such as `https://viewer.example.org`, or empty where no viewer is deployed. */
const viewerOrigin = z
  .string()
  .check(
    z.regex(/^(https?:\/\/[^/\s]+)?$/, 'must be an origin such as https://viewer.example.org, or empty'),
  );

/**
 * Where viewer sessions are placed and how long and how many they may be: the viewer's origin
 * (empty: no viewer is deployed, and sessions cannot start), the region they count against, and
 * the limits of the configuration.
 */
export const VIEWER_SESSIONS = settingsGroup('the viewer sessions', {
  viewerOrigin,
  viewerRegion: text,
  viewerSessionsPerUser: wholeNumber,
  viewerSessionsPerRegion: wholeNumber,
  viewerSessionMaxSeconds: wholeNumber,
});

/** The secret that holds the Ed25519 private key (PEM) session credentials are signed with. */
export const SESSION_SIGNING_KEY = settingsGroup('the session signing key', {
  sessionSigningKeySecretArn: text,
});
