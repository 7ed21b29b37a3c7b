import { createHash, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface LocalSigningKey {
  /** Id of the key in the local trusted key group, shaped like CloudFront's (K + 13 characters). */
  readonly keyPairId: string;
  readonly privateKeyPem: string;
  readonly publicKey: KeyObject;
}

/**
 * The key pair that signs URLs in local mode, generated on first start into the data folder
 * (readable by its owner only) and reused afterwards, so signed URLs survive a restart.
 */
export function loadOrCreateLocalSigningKey(dataDir: string): LocalSigningKey {
  const file = path.join(dataDir, 'url-signing-key.pem');
  if (!fs.existsSync(file)) {
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(file, privateKey, { mode: 0o600, flag: 'wx' });
  }
  const privateKeyPem = fs.readFileSync(file, 'utf8');
  const publicKey = createPublicKey(privateKeyPem);
  const fingerprint = createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .toUpperCase();
  return { keyPairId: `K${fingerprint.slice(0, 13)}`, privateKeyPem, publicKey };
}
