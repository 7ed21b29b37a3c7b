import { getDenialReasons, runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { PlatformAccess, PolicyDocument } from './platform-access';
import { LOCAL_ACCOUNT } from './template-values';

/** Who calls: a role's session (a function, a container, a job), or an AWS service for a resource. */
export type LocalPrincipal =
  | {
      readonly kind: 'role';
      readonly roleArn: string;
      /** `arn:aws:sts::<account>:assumed-role/<role>/<session>`, as AWS names the caller. */
      readonly sessionArn: string;
    }
  | {
      readonly kind: 'service';
      /** `events.amazonaws.com` */
      readonly service: string;
      /** What the service says of the request: aws:SourceArn, aws:SourceAccount. */
      readonly context: Readonly<Record<string, string>>;
    };

/** One authorization AWS makes for a request: an action on a resource. */
export interface AccessRequest {
  readonly action: string;
  readonly resource: string;
  /** Condition keys the request sets (kms:ViaService, s3:prefix, ...). */
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
}

export type Decision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      /** AWS's message: "User: <arn> is not authorized to perform: <action> on resource: <arn> because ...". */
      readonly message: string;
    };

/** An object's ARN: its bucket's, then the key. */
const S3_OBJECT_ARN = /^(arn:aws:s3:::[^/]+)\/([\s\S]+)$/;

/**
 * Decides requests as IAM does, with @cloud-copilot/iam-simulate: the caller's identity policies
 * (a role's, from the templates; a service has none) together with the resource's own policy
 * (bucket, key, queue, function). Every request is made over TLS, as the SDK makes it on AWS.
 * Decisions are kept: the same request always gets the same answer.
 */
export class PolicyEvaluator {
  private readonly decisions = new Map<string, Promise<Decision>>();
  /** Per caller and bucket: the Resource and NotResource patterns of their policies, as expressions. */
  private readonly patterns = new Map<string, readonly RegExp[] | undefined>();

  constructor(private readonly access: PlatformAccess) {}

  decide(principal: LocalPrincipal, request: AccessRequest): Promise<Decision> {
    const key = JSON.stringify([principal, request]);
    const cached = this.decisions.get(key);
    if (cached) return cached;
    // Object keys are endless, and simulating each takes milliseconds. A key enters IAM's decision
    // only through the policies' resource patterns it matches: an allowed request stands for every
    // key that matches the same ones. Refusals are simulated for each key, so that they name it.
    const shared = this.objectClass(principal, request);
    const decision = (shared && this.decisions.get(shared)) || this.evaluate(principal, request);
    if (this.decisions.size > 20_000) this.decisions.clear();
    this.decisions.set(key, decision);
    if (shared) {
      void decision.then(
        (d) => {
          if (d.allowed) this.decisions.set(shared, decision);
        },
        () => undefined,
      );
    }
    return decision;
  }

  /** The key shared by requests on objects of one bucket that match the same policy resources. */
  private objectClass(principal: LocalPrincipal, request: AccessRequest): string | undefined {
    const object = S3_OBJECT_ARN.exec(request.resource);
    if (!object) return undefined;
    const bucket = object[1];
    const patternsKey = JSON.stringify([principal, bucket]);
    if (!this.patterns.has(patternsKey))
      this.patterns.set(patternsKey, this.resourcePatterns(principal, bucket));
    const patterns = this.patterns.get(patternsKey);
    if (!patterns) return undefined;
    const matched = patterns.map((pattern) => (pattern.test(request.resource) ? 1 : 0)).join('');
    return JSON.stringify([principal, { ...request, resource: `${bucket}/*` }, matched]);
  }

  /**
   * Every Resource and NotResource of the caller's policies and the bucket's, as IAM matches them
   * (`*` any run of characters, `?` one, case kept); none when one holds a policy variable or is
   * not a plain string, so that such requests are simulated one by one.
   */
  private resourcePatterns(principal: LocalPrincipal, bucket: string): readonly RegExp[] | undefined {
    const documents = [
      ...(principal.kind === 'role'
        ? (this.access.role(principal.roleArn)?.policies ?? []).map((p) => p.document)
        : []),
      this.resourcePolicy(bucket) as PolicyDocument | undefined,
    ];
    const patterns: RegExp[] = [];
    for (const document of documents) {
      for (const statement of [document?.Statement ?? []].flat()) {
        for (const value of [statement.Resource ?? [], statement.NotResource ?? []].flat()) {
          if (typeof value !== 'string' || value.includes('${')) return undefined;
          const expression = value
            .split('')
            .map((c) =>
              c === '*' ? '[\\s\\S]*' : c === '?' ? '[\\s\\S]' : c.replace(/[.+^$()|[\]{}\\]/, '\\$&'),
            )
            .join('');
          patterns.push(new RegExp(`^${expression}$`));
        }
      }
    }
    return patterns;
  }

  private async evaluate(principal: LocalPrincipal, request: AccessRequest): Promise<Decision> {
    const identityPolicies =
      principal.kind === 'role'
        ? (this.access.role(principal.roleArn)?.policies ?? []).map(({ name, document }) => ({
            name,
            policy: document,
          }))
        : [];
    const context: Record<string, string | string[]> = {
      'aws:SecureTransport': 'true',
      ...(principal.kind === 'role'
        ? { 'aws:PrincipalArn': principal.roleArn, 'aws:PrincipalAccount': LOCAL_ACCOUNT }
        : principal.context),
    };
    for (const [name, value] of Object.entries(request.context ?? {})) {
      context[name] = typeof value === 'string' ? value : [...value];
    }
    const simulation: Simulation = {
      request: {
        principal: principal.kind === 'role' ? principal.sessionArn : principal.service,
        action: request.action,
        resource: { resource: request.resource, accountId: LOCAL_ACCOUNT },
        contextVariables: context,
      },
      identityPolicies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: this.resourcePolicy(request.resource),
    };
    const result = await runSimulation(simulation, {});
    if (result.resultType === 'error') {
      throw new Error(
        `local IAM cannot evaluate ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`,
      );
    }
    if (result.overallResult === 'Allowed') return { allowed: true };
    const analysis = result.resultType === 'single' ? result.result.analysis : undefined;
    const explicit = analysis
      ? getDenialReasons(analysis).find((reason) => reason.denialType === 'Explicit')
      : undefined;
    const caller = principal.kind === 'role' ? principal.sessionArn : principal.service;
    const because = explicit
      ? `with an explicit deny in ${explicit.policyType === 'resource' ? 'a resource-based' : 'an identity-based'} policy`
      : `because no ${principal.kind === 'role' ? 'identity-based' : 'resource-based'} policy allows the ${request.action} action`;
    return {
      allowed: false,
      message: `User: ${caller} is not authorized to perform: ${request.action} on resource: ${request.resource} ${because}`,
    };
  }

  /** The policy of the resource, or of the bucket that holds an object. */
  private resourcePolicy(resource: string): unknown {
    const policies = this.access.resourcePolicies;
    if (resource.startsWith('arn:aws:s3:::')) return policies.get(resource.split('/', 1)[0]);
    return policies.get(resource);
  }
}
