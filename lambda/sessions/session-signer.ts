import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createPublicKey } from 'node:crypto';
import { SessionCredential, signSessionCredential } from '../contracts/session-credential';
import { SESSION_SIGNING_KEY } from '../contracts/viewer-sessions';
import { imageUrlSigner } from '../delivery/image-url-signer';
import { SessionRecord } from './session-record';

/** The session signing key pair, read once per container from its secret. */
export interface SessionKeys {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

let keys: Promise<SessionKeys> | undefined;

export function sessionKeys(): Promise<SessionKeys> {
  keys ??= readKeys().catch((err: unknown) => {
    // A failed read is not kept: the next request tries again.
    keys = undefined;
    throw err;
  });
  return keys;
}

async function readKeys(): Promise<SessionKeys> {
  const { sessionSigningKeySecretArn } = SESSION_SIGNING_KEY.read();
  const secret = await new SecretsManagerClient({}).send(
    new GetSecretValueCommand({ SecretId: sessionSigningKeySecretArn }),
  );
  const privateKeyPem = secret.SecretString;
  if (!privateKeyPem?.includes('PRIVATE KEY')) {
    throw new Error(`secret ${sessionSigningKeySecretArn} holds no PEM private key`);
  }
  const publicKeyPem = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
  return { privateKeyPem, publicKeyPem };
}

/**
 * The session's credential as of `now`: its user, its images with CloudFront signed URLs that stay
 * valid until the session's cap (so a reader is never cut off by a URL's expiry while the session
 * runs), and its current expiry; signed with the session key.
 */
export async function sessionCredential(session: SessionRecord, now: number): Promise<string> {
  const signer = imageUrlSigner();
  // The URLs' lifetime is counted from the signer's clock; a minute more covers the two clocks.
  const urlSeconds = Math.max(60, session.maxExpiresAt - now + 60);
  const url = (key: string) => signer.signedUrl(key, { expiresInSeconds: urlSeconds });
  const credential: SessionCredential = {
    sessionId: session.id,
    userId: session.owner,
    expiresAt: session.expiresAt,
    issuedAt: now,
    viewerOrigin: session.viewerOrigin,
    images: await Promise.all(
      session.images.map(async (image) => ({
        id: image.id,
        name: image.name,
        kind: image.kind,
        url: await url(image.key),
        overlays: await Promise.all(
          image.overlays.map(async (overlay) => ({
            id: overlay.id,
            name: overlay.name,
            url: await url(overlay.key),
          })),
        ),
      })),
    ),
  };
  return signSessionCredential(credential, (await sessionKeys()).privateKeyPem);
}
