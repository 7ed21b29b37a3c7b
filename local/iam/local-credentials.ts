import { createHash } from 'node:crypto';
import type { LocalPrincipal } from './policy-evaluator';
import { LOCAL_ACCOUNT } from './template-values';

export interface LocalCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Who holds a local access key: a principal whose requests are evaluated, or the operator. */
export type KeyHolder = LocalPrincipal | { readonly kind: 'operator' };

/**
 * Local mode's access keys: one per role session (a function, the converter container, a job)
 * and per service acting for a resource (EventBridge for a rule, CloudFront for the
 * distribution), each key id naming who holds it; and the operator's, allowed everything, which
 * tests and `npm start`'s printed variables use, as an administrator would. Secrets follow from
 * the key id, so a presigned URL outlives a restart as it would on AWS.
 */
export class LocalCredentialStore {
  private readonly holders = new Map<string, KeyHolder>();
  readonly operator: LocalCredentials;

  constructor(private readonly onIssue: (credentials: LocalCredentials) => void = () => undefined) {
    this.operator = this.issue('LOCAL.operator', { kind: 'operator' });
  }

  /** Credentials of `roleArn`'s session `sessionName`, as Lambda or ECS hands them to the code it runs. */
  forRole(roleArn: string, sessionName: string): LocalCredentials {
    const roleName = roleArn.slice(roleArn.indexOf(':role/') + ':role/'.length);
    return this.issue(`LOCAL.${roleName}.${sessionName}`, {
      kind: 'role',
      roleArn,
      sessionArn: `arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/${roleName}/${sessionName}`,
    });
  }

  /** Credentials with which a service acts for `sourceArn` (a rule, a distribution). */
  forService(service: string, sourceArn: string): LocalCredentials {
    const name = sourceArn.slice(sourceArn.lastIndexOf('/') + 1);
    return this.issue(`LOCAL.${service.split('.')[0]}.${name}`, {
      kind: 'service',
      service,
      context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': LOCAL_ACCOUNT },
    });
  }

  holder(accessKeyId: string): KeyHolder | undefined {
    return this.holders.get(accessKeyId);
  }

  secretOf(accessKeyId: string): string | undefined {
    return this.holders.has(accessKeyId) ? secretFor(accessKeyId) : undefined;
  }

  private issue(accessKeyId: string, holder: KeyHolder): LocalCredentials {
    const credentials = { accessKeyId, secretAccessKey: secretFor(accessKeyId) };
    if (!this.holders.has(accessKeyId)) {
      this.holders.set(accessKeyId, holder);
      this.onIssue(credentials);
    }
    return credentials;
  }
}

function secretFor(accessKeyId: string): string {
  return createHash('sha256')
    .update(`imaging-platform-local:${accessKeyId}`)
    .digest('base64url')
    .slice(0, 40);
}
