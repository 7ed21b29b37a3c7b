import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { getSignedCookies, getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { SIGNED_URLS } from '../contracts/signed-urls';
import { SigningKey, signingKeyLookup } from './signing-key-lookup';

/** Reference expiry of a signed URL. */
export const DEFAULT_SIGNED_URL_SECONDS = 300;

export interface ImageUrlSignerOptions {
  /** Origin of the distribution, e.g. `https://d111111abcdef8.cloudfront.net`. */
  readonly baseUrl: string;
  /**
   * The key pair to sign with, asked for each signature: a key pair of the trusted key group
   * (`signingKeyLookup` finds the current one and caches it).
   */
  readonly signingKey: () => Promise<SigningKey>;
  /** @default 300 */
  readonly expiresInSeconds?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface SignOptions {
  /** @default the signer's expiry */
  readonly expiresInSeconds?: number;
}

export type SignedCookies = Record<string, string>;

/**
 * Signs CloudFront URLs (canned policy, one object) and cookies (custom policy, a prefix) for
 * objects of the imaging bucket. Signatures use SHA-256, which CloudFront accepts alongside SHA-1.
 */
export class ImageUrlSigner {
  private readonly baseUrl: string;
  private readonly expiresInSeconds: number;
  private readonly now: () => number;

  constructor(private readonly options: ImageUrlSignerOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.expiresInSeconds = options.expiresInSeconds ?? DEFAULT_SIGNED_URL_SECONDS;
    this.now = options.now ?? Date.now;
    if (!/^https?:\/\/[^/]+$/.test(this.baseUrl)) {
      throw new Error(
        `baseUrl must be an origin such as https://d111111abcdef8.cloudfront.net, got "${options.baseUrl}"`,
      );
    }
  }

  /** A URL that fetches the one object at `key` until it expires. */
  async signedUrl(key: string, options: SignOptions = {}): Promise<string> {
    return (await this.signedDownload(key, options)).url;
  }

  /** A signed URL for `key` with the moment it stops working, for answers that show both. */
  async signedDownload(key: string, options: SignOptions = {}): Promise<{ url: string; expiresAt: string }> {
    const expiry = this.expiry(options);
    const url = this.objectUrl(key);
    const signingKey = await this.options.signingKey();
    const signed = getSignedUrl({
      url,
      keyPairId: signingKey.keyPairId,
      privateKey: signingKey.privateKeyPem,
      dateLessThan: expiry,
      algorithm: 'SHA256',
    });
    return { url: signed, expiresAt: expiry.toISOString() };
  }

  /**
   * Cookies that open every object under `prefix` (a folder such as `images/<id>/`) until they
   * expire; the viewer fetches many tiles with one set.
   */
  async signedCookies(prefix: string, options: SignOptions = {}): Promise<SignedCookies> {
    if (!prefix.endsWith('/')) {
      throw new Error(`prefix must end with "/" so that it cannot match a sibling, got "${prefix}"`);
    }
    const policy = JSON.stringify({
      Statement: [
        {
          Resource: `${this.objectUrl(prefix)}*`,
          Condition: { DateLessThan: { 'AWS:EpochTime': Math.floor(this.expiry(options).getTime() / 1000) } },
        },
      ],
    });
    const signingKey = await this.options.signingKey();
    const cookies = getSignedCookies({
      keyPairId: signingKey.keyPairId,
      privateKey: signingKey.privateKeyPem,
      policy,
      algorithm: 'SHA256',
    });
    return Object.fromEntries(Object.entries(cookies).map(([name, value]) => [name, String(value)]));
  }

  /** The unsigned URL of an object, its key's segments percent-encoded. */
  objectUrl(key: string): string {
    if (key.length === 0 || key.startsWith('/')) {
      throw new Error(`object key must be relative and non-empty, got "${key}"`);
    }
    return `${this.baseUrl}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  private expiry(options: SignOptions): Date {
    const seconds = options.expiresInSeconds ?? this.expiresInSeconds;
    if (!Number.isInteger(seconds) || seconds <= 0) {
      throw new Error(`expiresInSeconds must be a positive whole number, got ${seconds}`);
    }
    return new Date(this.now() + seconds * 1000);
  }
}

let signerFromEnvironment: ImageUrlSigner | undefined;

/**
 * The signer a handler uses, configured by its `SIGNED_URLS` settings. One per container: it
 * finds the current key pair through the secret that names it, read again at most once a
 * minute, so a rotated key reaches the handler without a redeploy.
 */
export function imageUrlSigner(): ImageUrlSigner {
  if (signerFromEnvironment) return signerFromEnvironment;
  const settings = SIGNED_URLS.read();
  signerFromEnvironment = new ImageUrlSigner({
    baseUrl: settings.imagesBaseUrl,
    signingKey: signingKeyLookup({
      secretsManager: new SecretsManagerClient({}),
      currentKeySecretId: settings.currentSigningKeySecretArn,
    }),
    expiresInSeconds: settings.signedUrlSeconds,
  });
  return signerFromEnvironment;
}
