import { createHash, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CurrentSigningKey } from '../lambda/contracts/current-signing-key';
import { PlatformConfig } from '../lib/config/platform-config';
import { SecretsManagerStandIn } from './services/secrets-manager';

/** The configuration that decides which key pairs exist, sign and are trusted. */
export type SigningKeyGenerations = Pick<
  PlatformConfig,
  'urlSigningKeyGeneration' | 'urlSigningKeyRetiredGeneration'
>;

export interface LocalSigningKeys {
  /** The secret that names the current key pair: handlers' `currentSigningKeySecretArn`. */
  readonly currentKeySecretArn: string;
  /** The local distribution's trusted key group, public keys by key pair id; `deploy` changes it. */
  readonly trustedKeys: ReadonlyMap<string, KeyObject>;
  /** What the current-key secret names now. */
  current(): CurrentSigningKey;
  /** A trusted generation's key pair id and the ARN of its private key's secret. */
  generation(generation: number): { readonly keyPairId: string; readonly secretArn: string } | undefined;
  /**
   * Does what a deployment of `generations` does: makes a key pair for each trusted generation
   * that has none, trusts the current one and, until retired, the one before, then points the
   * current-key secret at the current one, and deletes the key pairs no longer trusted.
   */
  deploy(generations: SigningKeyGenerations): void;
}

/**
 * The key pairs that sign URLs in local mode, one per generation, as the data stack makes them:
 * each private key in a file of the data folder (readable by its owner only, so signed URLs
 * survive a restart) and in a secret of the Secrets Manager stand-in, and a secret that names the
 * current one, which handlers read at run time exactly as deployed handlers do. Secrets are
 * named under `secretNamePrefix` as the data stack names them, so its policies apply to them.
 */
export function localSigningKeys(
  dataDir: string,
  secrets: SecretsManagerStandIn,
  generations: SigningKeyGenerations,
  secretNamePrefix: string,
): LocalSigningKeys {
  const keyDir = path.join(dataDir, 'url-signing-keys');
  const trustedKeys = new Map<string, KeyObject>();
  let current: CurrentSigningKey | undefined;
  let trustedPairs: { generation: number; keyPairId: string; secretArn: string }[] = [];
  let currentKeySecretArn = '';

  const deploy = ({
    urlSigningKeyGeneration: generation,
    urlSigningKeyRetiredGeneration: retired,
  }: SigningKeyGenerations) => {
    if (retired >= generation) {
      throw new Error(
        `urlSigningKeyRetiredGeneration (${retired}) must be below urlSigningKeyGeneration (${generation})`,
      );
    }
    const trusted = [generation - 1, generation]
      .filter((g) => g > retired)
      .map((g) => ({ generation: g, ...loadOrCreateKeyPair(keyDir, g) }));
    const made = trusted.map((pair) => ({
      ...pair,
      secretArn: secrets.put(`${secretNamePrefix}/generation-${pair.generation}`, pair.privateKeyPem).arn,
    }));
    trustedPairs = made;
    trustedKeys.clear();
    for (const pair of made) trustedKeys.set(pair.keyPairId, pair.publicKey);
    const signing = made[made.length - 1];
    current = {
      keyPairId: signing.keyPairId,
      privateKeySecretArn: signing.secretArn,
      generation: signing.generation,
    };
    currentKeySecretArn = secrets.put(`${secretNamePrefix}-current`, JSON.stringify(current)).arn;
    for (const stale of [...secrets.secrets.values()].filter(
      (s) => s.name.startsWith(`${secretNamePrefix}/`) && !made.some((pair) => pair.secretArn === s.arn),
    )) {
      secrets.delete(stale.arn);
    }
    for (const file of fs.readdirSync(keyDir)) {
      const g = /^generation-(\d+)\.pem$/.exec(file)?.[1];
      if (g !== undefined && !made.some((pair) => pair.generation === Number(g))) {
        fs.rmSync(path.join(keyDir, file));
      }
    }
  };
  deploy(generations);

  return {
    get currentKeySecretArn() {
      return currentKeySecretArn;
    },
    trustedKeys,
    current: () => current!,
    generation: (g) => trustedPairs.find((pair) => pair.generation === g),
    deploy,
  };
}

function loadOrCreateKeyPair(
  keyDir: string,
  generation: number,
): { keyPairId: string; privateKeyPem: string; publicKey: KeyObject } {
  const file = path.join(keyDir, `generation-${generation}.pem`);
  if (!fs.existsSync(file)) {
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    fs.mkdirSync(keyDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, privateKey, { mode: 0o600, flag: 'wx' });
  }
  const privateKeyPem = fs.readFileSync(file, 'utf8');
  const publicKey = createPublicKey(privateKeyPem);
  const fingerprint = createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .toUpperCase();
  // Shaped like CloudFront's ids: K and 13 characters.
  return { keyPairId: `K${fingerprint.slice(0, 13)}`, privateKeyPem, publicKey };
}
