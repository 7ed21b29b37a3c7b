import type { PlatformConfig } from '../../lib/config/platform-config';
import type { RequestGuard } from '../services/request-guard';
import { acceptAccessKey } from '../services/s3';
import { AccessGate } from './access-gate';
import { LocalCredentialStore } from './local-credentials';
import { LocalResourceNames, PlatformAccess } from './platform-access';
import { AccessRequest, LocalPrincipal, PolicyEvaluator } from './policy-evaluator';
import { synthesizedPlatform, SynthesizedPlatform } from './synthesized-platform';
import { LOCAL_ACCOUNT } from './template-values';

type GatedService = 's3' | 'dynamodb' | 'sqs' | 'logs' | 'codepipeline';

/**
 * Local mode's IAM: the platform synthesized from local mode's configuration, the access keys of
 * its principals, and the check in front of every local service. Services start before the names
 * of their resources are known (queue URLs, the signing secret's ARN), so the check is bound to
 * them afterwards (`bind`); until then only the operator's requests pass.
 */
export class LocalIam {
  readonly credentials = new LocalCredentialStore(acceptAccessKey);
  private bound: { access: PlatformAccess; evaluator: PolicyEvaluator; gate: AccessGate } | undefined;

  private constructor(readonly synthesized: SynthesizedPlatform) {}

  /** Synthesizes (or reads from the cache) the platform as local mode's configuration deploys it. */
  static async start(
    config: PlatformConfig,
    edit: (synthesized: SynthesizedPlatform) => SynthesizedPlatform = (synthesized) => synthesized,
  ): Promise<LocalIam> {
    return new LocalIam(edit(await synthesizedPlatform(config)));
  }

  /** Reads the templates against local mode's resources; the checks apply from now on. */
  bind(names: LocalResourceNames): PlatformAccess {
    const access = new PlatformAccess(this.synthesized, names);
    const evaluator = new PolicyEvaluator(access);
    const gate = new AccessGate(this.credentials, evaluator, {
      region: names.region,
      account: LOCAL_ACCOUNT,
      encryptionKey: (arn) => access.encryptionKeys.get(arn),
    });
    this.bound = { access, evaluator, gate };
    return access;
  }

  get access(): PlatformAccess {
    return this.required().access;
  }

  /** The requests refused lately, by whose key, which action and AWS's message. */
  get refusals(): AccessGate['refusals'] {
    return this.bound?.gate.refusals ?? [];
  }

  /** The check in front of a service. */
  guard(service: GatedService): RequestGuard {
    return this.lazyGuard((gate) => gate[service]());
  }

  secretsManagerGuard(secretArn: (id: string) => string | undefined): RequestGuard {
    return this.lazyGuard((gate) => gate.secretsManager(secretArn));
  }

  batchGuard(latestRevision: (definitionName: string) => number | undefined): RequestGuard {
    return this.lazyGuard((gate) => gate.batch(latestRevision));
  }

  /** Decides one request that local mode makes for a service (ECR's pull, EventBridge's invoke). */
  decide(principal: LocalPrincipal, request: AccessRequest) {
    return this.required().evaluator.decide(principal, request);
  }

  private lazyGuard(make: (gate: AccessGate) => RequestGuard): RequestGuard {
    return (listener) => {
      let guarded: ReturnType<RequestGuard> | undefined;
      return (req, res) => {
        if (!this.bound) {
          // Before binding, only the operator (local mode setting itself up) is let through.
          return this.unbound(listener)(req, res);
        }
        guarded ??= make(this.bound.gate)(listener);
        guarded(req, res);
      };
    };
  }

  private unbound(listener: ReturnType<RequestGuard>): ReturnType<RequestGuard> {
    return (req, res) => {
      const header = String(req.headers.authorization ?? '');
      if (header.includes(`Credential=${this.credentials.operator.accessKeyId}/`)) return listener(req, res);
      req.resume();
      res.writeHead(503, { 'content-type': 'text/plain' }).end('local IAM is not ready yet');
    };
  }

  private required() {
    if (!this.bound) throw new Error('local IAM is not bound to local resources yet');
    return this.bound;
  }
}
