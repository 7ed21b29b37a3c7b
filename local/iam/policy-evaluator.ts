import { getDenialReasons, runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { PlatformAccess } from './platform-access';
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

/**
 * Decides requests as IAM does, with @cloud-copilot/iam-simulate: the caller's identity policies
 * (a role's, from the templates; a service has none) together with the resource's own policy
 * (bucket, key, queue, function). Every request is made over TLS, as the SDK makes it on AWS.
 * Decisions are kept: the same request always gets the same answer.
 */
export class PolicyEvaluator {
  private readonly decisions = new Map<string, Promise<Decision>>();

  constructor(private readonly access: PlatformAccess) {}

  decide(principal: LocalPrincipal, request: AccessRequest): Promise<Decision> {
    const key = JSON.stringify([principal, request]);
    let decision = this.decisions.get(key);
    if (!decision) {
      decision = this.evaluate(principal, request);
      if (this.decisions.size > 20_000) this.decisions.clear();
      this.decisions.set(key, decision);
    }
    return decision;
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
