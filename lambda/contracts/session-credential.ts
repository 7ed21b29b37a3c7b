import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';

/**
 * The credential of a viewer session: what the API signs when it starts a session and what a
 * viewer checks, with the public key only, before it shows anything. It names the session, its
 * user, its images with the signed URLs the viewer reads them through, and its expiry; a viewer
 * holds no other right to any image.
 */
export interface SessionCredential {
  readonly sessionId: string;
  /** The user the session was started for. */
  readonly userId: string;
  /** Epoch seconds after which no viewer accepts it: the session's end as of signing. */
  readonly expiresAt: number;
  /** Epoch seconds at which it was signed. */
  readonly issuedAt: number;
  /** Origin of the viewer the session was placed on (`https://viewer.example.org`). */
  readonly viewerOrigin: string;
  readonly images: readonly SessionImage[];
}

/** An image a session may show, and the images drawn over it. */
export interface SessionImage {
  readonly id: string;
  readonly name: string;
  /** `volume`: an `.mha` the viewer renders; `slide`: a pyramidal `.tif` it serves tiles from. */
  readonly kind: 'volume' | 'slide';
  /** CloudFront signed URL of the converted file, valid until the session's cap at least. */
  readonly url: string;
  /** Label maps drawn over it (a segmentation, a job's output). */
  readonly overlays: readonly SessionOverlay[];
}

export interface SessionOverlay {
  readonly id: string;
  readonly name: string;
  readonly url: string;
}

/** Signed text begins with this, so no signature made for another purpose can pass as one. */
const DOMAIN = 'imaging-platform.session-credential.v1.';

/** The credential as text: base64url(JSON).base64url(Ed25519 signature). */
export function signSessionCredential(credential: SessionCredential, privateKeyPem: string): string {
  const body = Buffer.from(JSON.stringify(credential)).toString('base64url');
  const signature = sign(null, Buffer.from(DOMAIN + body), createPrivateKey(privateKeyPem));
  return `${body}.${signature.toString('base64url')}`;
}

/** Why a credential is refused: `otherSession` is the one refusal of a valid signature. */
export type RefusalReason =
  'malformed' | 'unsigned' | 'otherSession' | 'otherUser' | 'otherViewer' | 'expired';

/** Why a viewer refused a credential, in words it may show the reader. */
export class CredentialRefused extends Error {
  override readonly name = 'CredentialRefused';
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
  }
}

export interface CredentialCheck {
  /** The session the request is for: a credential of any other session is refused. */
  readonly sessionId: string;
  /** @default - now */
  readonly nowSeconds?: number;
}

/**
 * The credential if `text` was signed by the key whose public half is `publicKeyPem`, is for
 * `check.sessionId` and has not expired; otherwise throws `CredentialRefused` saying which.
 */
export function verifySessionCredential(
  text: string,
  publicKeyPem: string,
  check: CredentialCheck,
): SessionCredential {
  const [body, signature, ...rest] = text.split('.');
  if (!body || !signature || rest.length > 0)
    throw new CredentialRefused('malformed', 'the session credential is malformed');
  const signed = verify(
    null,
    Buffer.from(DOMAIN + body),
    createPublicKey(publicKeyPem),
    Buffer.from(signature, 'base64url'),
  );
  if (!signed)
    throw new CredentialRefused('unsigned', 'the session credential is not signed by the platform');
  const credential = JSON.parse(Buffer.from(body, 'base64url').toString()) as SessionCredential;
  if (credential.sessionId !== check.sessionId)
    throw new CredentialRefused('otherSession', 'the session credential is for another session');
  const now = check.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (!(credential.expiresAt > now))
    throw new CredentialRefused('expired', 'the session credential has expired');
  return credential;
}
