import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { getSignedCookies, getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { SIGNED_URLS } from '../contracts/signed-urls';

/** Reference expiry of a signed URL. */
export const DEFAULT_SIGNED_URL_SECONDS = 300;

export interface ImageUrlSignerOptions {
  /** Origin of the distribution, e.g. `https://d111111abcdef8.cloudfront.net`. */
  readonly baseUrl: string;
  /** Id of the CloudFront public key in the trusted key group. */
  readonly keyPairId: string;
  /** Returns the PEM private key of that key pair; called once per signer. */
  readonly loadPrivateKey: () => Promise<string>;
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
  private privateKey?: Promise<string>;

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
    const url = await getSignedUrl({
      url: this.objectUrl(key),
      keyPairId: this.options.keyPairId,
      privateKey: await this.key(),
      dateLessThan: expiry,
      algorithm: 'SHA256',
    });
    return { url, expiresAt: expiry.toISOString() };
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
    const cookies = getSignedCookies({
      keyPairId: this.options.keyPairId,
      privateKey: await this.key(),
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

  private key(): Promise<string> {
    // Cached for the life of the container; a failed load is retried on the next call.
    this.privateKey ??= this.options.loadPrivateKey().catch((err) => {
      this.privateKey = undefined;
      throw err;
    });
    return this.privateKey;
  }
}

/** Reads the private key from the secret the data stack's key pair resource wrote. */
export function privateKeyFromSecret(
  secretsManager: SecretsManagerClient,
  secretId: string,
): () => Promise<string> {
  return async () => {
    const secret = await secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (!secret.SecretString?.includes('PRIVATE KEY')) {
      throw new Error(`secret ${secretId} holds no PEM private key`);
    }
    return secret.SecretString;
  };
}

let signerFromEnvironment: ImageUrlSigner | undefined;

/**
 * The signer a handler uses, configured by its `SIGNED_URLS` settings. One per container, so the
 * private key is fetched once.
 */
export function imageUrlSigner(): ImageUrlSigner {
  if (signerFromEnvironment) return signerFromEnvironment;
  const settings = SIGNED_URLS.read();
  signerFromEnvironment = new ImageUrlSigner({
    baseUrl: settings.imagesBaseUrl,
    keyPairId: settings.signingKeyPairId,
    loadPrivateKey: privateKeyFromSecret(new SecretsManagerClient({}), settings.signingKeySecretArn),
    expiresInSeconds: settings.signedUrlSeconds,
  });
  return signerFromEnvironment;
}
