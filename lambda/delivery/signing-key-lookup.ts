import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseCurrentSigningKey, SIGNING_KEY_CACHE_SECONDS } from '../contracts/current-signing-key';

/** What signs a URL: the key pair's id, as CloudFront knows it, and its private key. */
export interface SigningKey {
  readonly keyPairId: string;
  readonly privateKeyPem: string;
  readonly generation: number;
}

export interface SigningKeyLookupOptions {
  readonly secretsManager: SecretsManagerClient;
  /** The secret that names the current key pair (`currentSigningKeySecretArn`). */
  readonly currentKeySecretId: string;
  /** @default SIGNING_KEY_CACHE_SECONDS */
  readonly cacheSeconds?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * The key pair to sign with now, found at run time: the secret that names the current key pair
 * is read again once `cacheSeconds` have passed, so a rotation reaches a warm container within
 * that time; the private key of a generation is read once, as it never changes. Concurrent
 * callers share one read, and a failed read is not kept: the next call tries again.
 */
export function signingKeyLookup(options: SigningKeyLookupOptions): () => Promise<SigningKey> {
  const cacheMs = (options.cacheSeconds ?? SIGNING_KEY_CACHE_SECONDS) * 1000;
  const now = options.now ?? Date.now;
  let current: { key: SigningKey; readAt: number } | undefined;
  let reading: Promise<SigningKey> | undefined;
  const privateKeys = new Map<string, string>();

  const read = async (): Promise<SigningKey> => {
    const readAt = now();
    const pointer = await options.secretsManager.send(
      new GetSecretValueCommand({ SecretId: options.currentKeySecretId }),
    );
    const named = parseCurrentSigningKey(options.currentKeySecretId, pointer.SecretString);
    let privateKeyPem = privateKeys.get(named.privateKeySecretArn);
    if (privateKeyPem === undefined) {
      privateKeyPem = await readPrivateKey(options.secretsManager, named.privateKeySecretArn);
      // Only the current generation's key is kept: a retired one has no business here.
      privateKeys.clear();
      privateKeys.set(named.privateKeySecretArn, privateKeyPem);
    }
    const key = { keyPairId: named.keyPairId, privateKeyPem, generation: named.generation };
    current = { key, readAt };
    return key;
  };

  return async () => {
    if (current && now() - current.readAt < cacheMs) return current.key;
    reading ??= read().finally(() => {
      reading = undefined;
    });
    return reading;
  };
}

async function readPrivateKey(secretsManager: SecretsManagerClient, secretId: string): Promise<string> {
  const secret = await secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (!secret.SecretString?.includes('PRIVATE KEY')) {
    throw new Error(`secret ${secretId} holds no PEM private key`);
  }
  return secret.SecretString;
}
