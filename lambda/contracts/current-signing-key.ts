/**
 * The secret that names the key pair handlers sign with now. Deploy code writes it (the data
 * stack's `CurrentKey` secret, after the key group trusts that key pair) and local mode does the
 * same; handlers read it at run time, so a rotation reaches them without a redeploy of their
 * stack. It holds no private key: it points at the secret of the current generation, which does.
 */
export interface CurrentSigningKey {
  /** Id of the CloudFront public key, as `Key-Pair-Id` names it in signed URLs. */
  readonly keyPairId: string;
  /** ARN of the secret that holds that key pair's PEM private key. */
  readonly privateKeySecretArn: string;
  /** The `urlSigningKeyGeneration` that made the key pair. */
  readonly generation: number;
}

/**
 * How long a handler keeps what it read before it reads the secret again. URLs signed with a
 * key pair go on being made for this long after the secret moves on, so the previous key pair
 * must stay trusted for `signedUrlSeconds` plus this after a rotation.
 */
export const SIGNING_KEY_CACHE_SECONDS = 60;

/** The secret's text, as handlers read it; a failure names the secret and what is wrong. */
export function parseCurrentSigningKey(secretId: string, text: string | undefined): CurrentSigningKey {
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch {
    throw new Error(`secret ${secretId} does not hold JSON naming the current signing key`);
  }
  const { keyPairId, privateKeySecretArn, generation } = (value ?? {}) as Record<string, unknown>;
  const problems = [
    typeof keyPairId === 'string' && /^K[A-Z0-9]{1,127}$/.test(keyPairId)
      ? undefined
      : 'keyPairId must be a CloudFront public key id',
    typeof privateKeySecretArn === 'string' && privateKeySecretArn.startsWith('arn:')
      ? undefined
      : 'privateKeySecretArn must be a secret ARN',
    Number.isInteger(generation) && (generation as number) >= 1
      ? undefined
      : 'generation must be a whole number from 1',
  ].filter((problem) => problem !== undefined);
  if (problems.length > 0) throw new Error(`secret ${secretId}: ${problems.join('; ')}`);
  return { keyPairId, privateKeySecretArn, generation } as CurrentSigningKey;
}
