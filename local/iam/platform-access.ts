import type { TableName } from '../../lambda/contracts/tables';
import type { JobResourceNames } from '../../lib/jobs/job-resource-names';
import type { LogicalRef, SynthesizedPlatform } from './synthesized-platform';
import { LOCAL_ACCOUNT, LOCAL_PARTITION, TemplateValues } from './template-values';

/** An IAM policy document, as the templates hold it once resolved. */
export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: readonly Record<string, unknown>[];
}

/** A role of the templates with the policies attached to it. */
export interface RoleAccess {
  readonly name: string;
  readonly arn: string;
  readonly policies: readonly { readonly name: string; readonly document: PolicyDocument }[];
}

/** A function of the templates, as local mode runs it. */
export interface FunctionAccess {
  readonly name: string;
  readonly arn: string;
  readonly roleArn: string;
  /** Its Lambda environment, naming local mode's resources. */
  readonly environment: Readonly<Record<string, string>>;
  /** Where Lambda puts the events of asynchronous invocations that failed every retry. */
  readonly deadLetterQueueArn?: string;
  /** The EventBridge rule that invokes it, and where the rule puts events it could not deliver. */
  readonly rule?: { readonly name: string; readonly arn: string; readonly deadLetterQueueArn?: string };
}

/** Local mode's own names for what the templates create. */
export interface LocalResourceNames {
  readonly region: string;
  readonly bucketName: string;
  readonly tableName: (table: TableName) => string;
  /** Queue name and URL in the SQS stand-in. */
  readonly queues: Readonly<
    Record<keyof SynthesizedPlatform['queues'], { readonly name: string; readonly url: string }>
  >;
  readonly signingKeys: {
    readonly currentKeySecretArn: string;
    generation(generation: number): { readonly keyPairId: string; readonly secretArn: string } | undefined;
  };
  /** The secret in the Secrets Manager stand-in that keys page tokens. */
  readonly pageTokenSecretArn: string;
  /** The secret in the Secrets Manager stand-in that holds the session signing key. */
  readonly sessionSigningKeySecretArn: string;
  /** host:port of the CloudFront stand-in. */
  readonly distributionDomain: string;
  readonly jobs: JobResourceNames;
}

/**
 * Who may do what in local mode, read from the synthesized templates: each role's policies, the
 * resource policies (bucket, key, queues, functions), which key encrypts what, and each
 * function's and container's role and environment, all naming local mode's resources.
 */
export class PlatformAccess {
  readonly values: TemplateValues;
  readonly roles = new Map<string, RoleAccess>();
  /** Resource-based policies by the ARN of their resource. */
  readonly resourcePolicies = new Map<string, PolicyDocument>();
  /** The KMS key that encrypts a bucket, queue, table or secret, by the resource's ARN. */
  readonly encryptionKeys = new Map<string, string>();
  readonly functions = new Map<string, FunctionAccess>();
  readonly converter: {
    readonly jobRoleArn: string;
    readonly executionRoleArn: string;
    readonly image: string;
    readonly environment: Readonly<Record<string, string>>;
  };
  readonly inputStager: {
    readonly jobRoleArn: string;
    readonly environment: Readonly<Record<string, string>>;
  };
  readonly algorithmJobs: { readonly jobRoleArn: string; readonly executionRoleArn: string };
  readonly bucketArn: string;
  readonly keyArn: string;
  readonly distributionArn: string;
  readonly queueArns: Readonly<Record<keyof SynthesizedPlatform['queues'], string>>;

  constructor(
    readonly platform: SynthesizedPlatform,
    readonly names: LocalResourceNames,
  ) {
    const same = (a: LogicalRef, b: LogicalRef) => a.stack === b.stack && a.logicalId === b.logicalId;
    const tables = Object.entries(platform.tables) as [TableName, LogicalRef][];
    const queues = Object.entries(platform.queues) as [keyof SynthesizedPlatform['queues'], LogicalRef][];
    const values: TemplateValues = new TemplateValues(
      platform,
      names.region,
      (ref, attribute): string | undefined => {
        const table = tables.find(([, r]) => same(r, ref))?.[0];
        if (table) {
          const name = names.tableName(table);
          return attribute === 'Arn' ? values.arn('dynamodb', `table/${name}`) : name;
        }
        if (same(ref, platform.imagingBucket)) {
          return attribute === 'Arn' ? `arn:${LOCAL_PARTITION}:s3:::${names.bucketName}` : names.bucketName;
        }
        const queue = queues.find(([, r]) => same(r, ref))?.[0];
        if (queue) {
          const { name, url } = names.queues[queue];
          return attribute === 'Arn' ? values.arn('sqs', name) : attribute === 'QueueName' ? name : url;
        }
        const { signingKeys } = platform;
        if (same(ref, signingKeys.currentKeySecret)) return names.signingKeys.currentKeySecretArn;
        for (const { generation, keyPair, publicKey } of signingKeys.generations) {
          const local = names.signingKeys.generation(generation);
          if (same(ref, keyPair) && attribute === 'SecretArn') return local?.secretArn;
          if (same(ref, publicKey)) return local?.keyPairId;
        }
        if (same(ref, platform.pageTokenKey)) return names.pageTokenSecretArn;
        if (same(ref, platform.sessionSigningKey.keyPair) && attribute === 'SecretArn') {
          return names.sessionSigningKeySecretArn;
        }
        if (same(ref, platform.distribution)) {
          return attribute === 'DomainName' ? names.distributionDomain : 'ELOCALDISTRIBUTION';
        }
        // Named for the local Batch and Logs stand-ins, as local mode's settings name them.
        const logGroup = same(ref, platform.algorithmJobs.logGroup)
          ? names.jobs.logGroup
          : same(ref, platform.converter.logGroup)
            ? names.jobs.converterLogGroup
            : same(ref, platform.inputStager.logGroup)
              ? names.jobs.inputStagingLogGroup
              : undefined;
        if (logGroup) return attribute === 'Arn' ? values.arn('logs', `log-group:${logGroup}:*`) : logGroup;
        return undefined;
      },
    );
    this.values = values;
    this.bucketArn = values.arnOf(platform.imagingBucket);
    this.keyArn = values.arnOf(platform.platformKey);
    this.distributionArn = `arn:${LOCAL_PARTITION}:cloudfront::${LOCAL_ACCOUNT}:distribution/${values.refOf(platform.distribution)}`;
    this.queueArns = Object.fromEntries(queues.map(([queue, ref]) => [queue, values.arnOf(ref)])) as Record<
      keyof SynthesizedPlatform['queues'],
      string
    >;

    for (const [stack, template] of Object.entries(platform.templates)) {
      for (const [logicalId, resource] of Object.entries(template.Resources)) {
        this.read({ stack, logicalId }, resource.Type);
      }
    }
    for (const [handler, refs] of Object.entries(platform.functions)) {
      const fn = values.properties(refs.function);
      const rule = refs.rule && values.properties(refs.rule);
      const target = (rule?.Targets as { DeadLetterConfig?: { Arn?: string } }[] | undefined)?.[0];
      this.functions.set(handler, {
        name: values.refOf(refs.function),
        arn: values.arnOf(refs.function),
        roleArn: values.arnOf(refs.role),
        environment: (fn.Environment as { Variables?: Record<string, string> } | undefined)?.Variables ?? {},
        deadLetterQueueArn: (fn.DeadLetterConfig as { TargetArn?: string } | undefined)?.TargetArn,
        ...(refs.rule && {
          rule: {
            name: values.refOf(refs.rule),
            arn: values.arnOf(refs.rule),
            deadLetterQueueArn: target?.DeadLetterConfig?.Arn,
          },
        }),
      });
    }
    const definition = values.properties(platform.converter.jobDefinition).ContainerProperties as {
      Image: string;
      Environment?: { Name: string; Value: string }[];
    };
    this.converter = {
      jobRoleArn: values.arnOf(platform.converter.jobRole),
      executionRoleArn: values.arnOf(platform.converter.executionRole),
      image: definition.Image,
      environment: Object.fromEntries((definition.Environment ?? []).map(({ Name, Value }) => [Name, Value])),
    };
    const stager = values.properties(platform.inputStager.jobDefinition).ContainerProperties as {
      Environment?: { Name: string; Value: string }[];
    };
    this.inputStager = {
      jobRoleArn: values.arnOf(platform.inputStager.jobRole),
      environment: Object.fromEntries((stager.Environment ?? []).map(({ Name, Value }) => [Name, Value])),
    };
    this.algorithmJobs = {
      jobRoleArn: values.arnOf(platform.algorithmJobs.jobRole),
      executionRoleArn: values.arnOf(platform.algorithmJobs.executionRole),
    };
  }

  /** The role of an ARN, or of the assumed-role session ARN that names it. */
  role(arn: string): RoleAccess | undefined {
    return this.roles.get(arn);
  }

  private read(ref: LogicalRef, type: string): void {
    const values = this.values;
    const raw = values.resource(ref).Properties ?? {};
    const roleOf = (role: unknown) =>
      this.roleEntry(values.arnOf({ stack: ref.stack, logicalId: refName(role) }));
    switch (type) {
      case 'AWS::IAM::Role': {
        const role = this.roleEntry(values.arnOf(ref));
        const props = values.properties(ref);
        for (const policy of (props.Policies ?? []) as {
          PolicyName: string;
          PolicyDocument: PolicyDocument;
        }[]) {
          role.policies.push({ name: policy.PolicyName, document: policy.PolicyDocument });
        }
        return;
      }
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy': {
        const props = values.properties(ref);
        for (const role of (raw.Roles ?? []) as unknown[]) {
          roleOf(role).policies.push({
            name: String(props.PolicyName ?? ref.logicalId),
            document: props.PolicyDocument as PolicyDocument,
          });
        }
        return;
      }
      case 'AWS::S3::BucketPolicy': {
        const props = values.properties(ref);
        this.addResourcePolicy(
          `arn:${LOCAL_PARTITION}:s3:::${String(props.Bucket)}`,
          props.PolicyDocument as PolicyDocument,
        );
        return;
      }
      case 'AWS::SQS::QueuePolicy': {
        const props = values.properties(ref);
        for (const queue of (raw.Queues ?? []) as unknown[]) {
          this.addResourcePolicy(
            values.arnOf({ stack: ref.stack, logicalId: refName(queue) }),
            props.PolicyDocument as PolicyDocument,
          );
        }
        return;
      }
      case 'AWS::KMS::Key':
        this.addResourcePolicy(values.arnOf(ref), values.properties(ref).KeyPolicy as PolicyDocument);
        return;
      case 'AWS::Lambda::Permission': {
        const props = values.properties(ref);
        const functionArn = String(props.FunctionName);
        const condition: Record<string, Record<string, unknown>> = {};
        if (props.SourceArn !== undefined) condition.ArnLike = { 'aws:SourceArn': props.SourceArn };
        if (props.SourceAccount !== undefined) {
          condition.StringEquals = { 'aws:SourceAccount': props.SourceAccount };
        }
        const principal = String(props.Principal);
        this.addResourcePolicy(functionArn, {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: principal.endsWith('.amazonaws.com') ? { Service: principal } : { AWS: principal },
              Action: props.Action,
              Resource: functionArn,
              ...(Object.keys(condition).length > 0 && { Condition: condition }),
            },
          ],
        });
        return;
      }
      case 'AWS::S3::Bucket': {
        const props = values.properties(ref);
        const rules = (
          props.BucketEncryption as
            | {
                ServerSideEncryptionConfiguration?: {
                  ServerSideEncryptionByDefault?: { KMSMasterKeyID?: string };
                }[];
              }
            | undefined
        )?.ServerSideEncryptionConfiguration;
        const key = rules?.[0]?.ServerSideEncryptionByDefault?.KMSMasterKeyID;
        if (key) this.encryptionKeys.set(values.arnOf(ref), key);
        return;
      }
      case 'AWS::SQS::Queue': {
        const key = values.properties(ref).KmsMasterKeyId;
        if (typeof key === 'string') this.encryptionKeys.set(values.arnOf(ref), key);
        return;
      }
      case 'AWS::DynamoDB::GlobalTable':
      case 'AWS::DynamoDB::Table': {
        const props = values.properties(ref) as {
          SSESpecification?: { KMSMasterKeyId?: string };
          Replicas?: { SSESpecification?: { KMSMasterKeyId?: string } }[];
        };
        const key =
          props.Replicas?.[0]?.SSESpecification?.KMSMasterKeyId ?? props.SSESpecification?.KMSMasterKeyId;
        if (key) this.encryptionKeys.set(values.arnOf(ref), key);
        return;
      }
      case 'AWS::SecretsManager::Secret': {
        const key = values.properties(ref).KmsKeyId;
        if (typeof key === 'string') this.encryptionKeys.set(values.arnOf(ref), key);
        return;
      }
      case 'Custom::UrlSigningKeyPair': {
        const key = values.properties(ref).KmsKeyId;
        if (typeof key === 'string') this.encryptionKeys.set(values.attributeOf(ref, 'SecretArn'), key);
        return;
      }
    }
  }

  private roleEntry(arn: string): RoleAccess & { policies: RoleAccess['policies'][number][] } {
    let role = this.roles.get(arn) as
      (RoleAccess & { policies: RoleAccess['policies'][number][] }) | undefined;
    if (!role) {
      role = { name: arn.slice(arn.indexOf(':role/') + ':role/'.length), arn, policies: [] };
      this.roles.set(arn, role);
    }
    return role;
  }

  private addResourcePolicy(arn: string, document: PolicyDocument): void {
    const existing = this.resourcePolicies.get(arn);
    this.resourcePolicies.set(arn, {
      Version: '2012-10-17',
      Statement: [...(existing?.Statement ?? []), ...[document.Statement].flat()],
    });
  }
}

function refName(value: unknown): string {
  const name = (value as { Ref?: unknown }).Ref;
  if (typeof name !== 'string') throw new Error(`expected a Ref, got ${JSON.stringify(value)}`);
  return name;
}
