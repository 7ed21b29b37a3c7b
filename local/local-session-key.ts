import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SecretsManagerStandIn } from './services/secrets-manager';

export interface LocalSessionKey {
  /** The secret holding the private key: handlers' `sessionSigningKeySecretArn`. */
  readonly secretArn: string;
  /** What viewers verify session credentials with. */
  readonly publicKeyPem: string;
}

/**
 * The Ed25519 key pair that signs session credentials in local mode, as the data stack's custom
 * resource makes it: the private key in a file of the data folder (its owner's only, so
 * credentials survive a restart) and in a secret of the Secrets Manager stand-in, named under
 * `secretNamePrefix` as the data stack names it, so that its policies apply.
 */
export function localSessionKey(
  dataDir: string,
  secrets: SecretsManagerStandIn,
  secretNamePrefix: string,
): LocalSessionKey {
  const file = path.join(dataDir, 'session-signing-key.pem');
  if (!fs.existsSync(file)) {
    const { privateKey } = generateKeyPairSync('ed25519', {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(file, privateKey, { mode: 0o600, flag: 'wx' });
  }
  const privateKeyPem = fs.readFileSync(file, 'utf8');
  const publicKeyPem = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
  return { secretArn: secrets.put(`${secretNamePrefix}/local`, privateKeyPem).arn, publicKeyPem };
}
