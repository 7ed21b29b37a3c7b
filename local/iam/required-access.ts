import type { AccessRequest } from './policy-evaluator';

/**
 * An authorization that a request needs. `kms` marks the checks a service makes with KMS on the
 * caller's behalf (an encrypted object, queue message, table or secret), which fail in the
 * service's own way.
 */
export interface RequiredAccess extends AccessRequest {
  readonly kms?: boolean;
}

/** Where local mode's resources are, for turning requests into ARNs. */
export interface AccessContext {
  readonly region: string;
  readonly account: string;
  /** The KMS key that encrypts a resource, by the resource's ARN. */
  readonly encryptionKey: (resourceArn: string) => string | undefined;
}

/** The KMS use a service makes for the caller on an encrypted resource, if it is encrypted. */
export function kmsUse(
  context: AccessContext,
  resourceArn: string,
  action: 'kms:Decrypt' | 'kms:GenerateDataKey',
  service: string,
  encryptionContext: Readonly<Record<string, string>> = {},
): RequiredAccess[] {
  const key = context.encryptionKey(resourceArn);
  if (!key) return [];
  return [
    {
      action,
      resource: key,
      kms: true,
      context: {
        'kms:ViaService': `${service}.${context.region}.amazonaws.com`,
        'kms:CallerAccount': context.account,
        ...Object.fromEntries(
          Object.entries(encryptionContext).map(([name, value]) => [`kms:EncryptionContext:${name}`, value]),
        ),
      },
    },
  ];
}
