import { createHash } from 'node:crypto';
import type { LogicalRef, SynthesizedPlatform, Template } from './synthesized-platform';

/** The account and partition of every local ARN; the region is the configuration's home region. */
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_PARTITION = 'aws';

/**
 * What a resource of the templates is in local mode, where it is not what the resource's type
 * and logical id make of it: table and bucket names, queue URLs, the signing secret's ARN.
 * `attribute` answers `Ref` and `Fn::GetAtt` of a resource, or undefined to leave it to its type.
 */
export type LocalAttribute = (ref: LogicalRef, attribute: string) => string | undefined;

/**
 * Reads values of the synthesized templates as local mode's resources make them: references to
 * resources (Ref, Fn::GetAtt), to other stacks (Fn::GetStackOutput, Fn::ImportValue), pseudo
 * parameters and string functions (Fn::Join, Fn::Sub, Fn::Select, Fn::Split). A resource names
 * itself as CloudFormation names it (`<stack>-<logical id>`, or its own name property).
 */
export class TemplateValues {
  constructor(
    readonly platform: SynthesizedPlatform,
    readonly region: string,
    private readonly local: LocalAttribute,
  ) {}

  /** The value at `value` in `stack`'s template, resolved. */
  resolve(stack: string, value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(stack, v));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [[name, arg]] = entries;
      switch (name) {
        case 'Ref':
          return this.ref(stack, String(arg));
        case 'Fn::GetAtt': {
          const [logicalId, attribute] = Array.isArray(arg)
            ? (arg as string[])
            : String(arg).split(/\.(.*)/s, 2);
          return this.attribute({ stack, logicalId }, String(this.resolve(stack, attribute)));
        }
        case 'Fn::Join': {
          const [separator, parts] = arg as [string, unknown[]];
          return (this.resolve(stack, parts) as unknown[]).map(String).join(separator);
        }
        case 'Fn::Sub':
          return this.substitute(stack, arg);
        case 'Fn::Select': {
          const [index, list] = arg as [unknown, unknown];
          return (this.resolve(stack, list) as unknown[])[Number(this.resolve(stack, index))];
        }
        case 'Fn::Split': {
          const [separator, text] = arg as [string, unknown];
          return String(this.resolve(stack, text)).split(separator);
        }
        case 'Fn::GetStackOutput': {
          const { StackName, OutputName } = arg as { StackName: string; OutputName: string };
          return this.output(String(this.resolve(stack, StackName)), String(this.resolve(stack, OutputName)));
        }
        case 'Fn::ImportValue':
          return this.importValue(String(this.resolve(stack, arg)));
        default:
          if (name.startsWith('Fn::')) throw new Error(`${name} in ${stack} is not read by local mode`);
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(stack, v)]));
  }

  /** The template of a stack. */
  template(stack: string): Template {
    const template = this.platform.templates[stack];
    if (!template) throw new Error(`no stack ${stack} was synthesized`);
    return template;
  }

  /** A resource's properties, resolved. */
  properties(ref: LogicalRef): Record<string, unknown> {
    return this.resolve(ref.stack, this.resource(ref).Properties ?? {}) as Record<string, unknown>;
  }

  resource(ref: LogicalRef): { Type: string; Properties?: Record<string, unknown> } {
    const resource = this.template(ref.stack).Resources[ref.logicalId];
    if (!resource) throw new Error(`${ref.stack} has no resource ${ref.logicalId}`);
    return resource;
  }

  /** A resource's attribute, as `Fn::GetAtt` gives it (`Ref` for its Ref). */
  attributeOf(ref: LogicalRef, attribute: string): string {
    return this.attribute(ref, attribute);
  }

  /** A resource's `Ref`. */
  refOf(ref: LogicalRef): string {
    return this.attribute(ref, 'Ref');
  }

  /** A resource's ARN, as `Fn::GetAtt [.., Arn]` gives it. */
  arnOf(ref: LogicalRef): string {
    return this.attribute(ref, 'Arn');
  }

  /** An ARN of this account; IAM's name no region. */
  arn(service: string, resource: string, region = this.region): string {
    return `arn:${LOCAL_PARTITION}:${service}:${region}:${LOCAL_ACCOUNT}:${resource}`;
  }

  private ref(stack: string, name: string): string {
    const pseudo: Record<string, string> = {
      'AWS::AccountId': LOCAL_ACCOUNT,
      'AWS::Region': this.region,
      'AWS::Partition': LOCAL_PARTITION,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': stack,
      'AWS::StackId': this.arn('cloudformation', `stack/${stack}/${stableUuid(stack)}`),
    };
    if (name in pseudo) return pseudo[name];
    if (name.startsWith('AWS::')) throw new Error(`${name} in ${stack} is not read by local mode`);
    return this.attribute({ stack, logicalId: name }, 'Ref');
  }

  private attribute(ref: LogicalRef, attribute: string): string {
    const local = this.local(ref, attribute);
    if (local !== undefined) return local;
    const { Type: type, Properties: raw = {} } = this.resource(ref);
    const named = (property: string, fallback: () => string) =>
      raw[property] === undefined ? fallback() : String(this.resolve(ref.stack, raw[property]));
    const generated = (max: number) => `${ref.stack}-${ref.logicalId}`.slice(0, max);
    switch (type) {
      case 'AWS::IAM::Role': {
        const name = named('RoleName', () => generated(64));
        return attribute === 'Arn' ? this.arn('iam', `role/${name}`, '') : name;
      }
      case 'AWS::Lambda::Function': {
        const name = named('FunctionName', () => generated(64));
        return attribute === 'Arn' ? this.arn('lambda', `function:${name}`) : name;
      }
      case 'AWS::Events::Rule': {
        const name = named('Name', () => generated(64));
        return attribute === 'Arn' ? this.arn('events', `rule/${name}`) : name;
      }
      case 'AWS::Logs::LogGroup': {
        const name = named('LogGroupName', () => `/local/${generated(200)}`);
        return attribute === 'Arn' ? this.arn('logs', `log-group:${name}:*`) : name;
      }
      case 'AWS::KMS::Key': {
        const id = stableUuid(`${ref.stack}/${ref.logicalId}`);
        return attribute === 'Arn' ? this.arn('kms', `key/${id}`) : id;
      }
      case 'AWS::S3::Bucket': {
        const name = named('BucketName', () => generated(63).toLowerCase());
        return attribute === 'Arn' ? `arn:${LOCAL_PARTITION}:s3:::${name}` : name;
      }
      case 'AWS::SQS::Queue': {
        const name = named('QueueName', () => generated(80));
        if (attribute === 'Arn') return this.arn('sqs', name);
        return attribute === 'QueueName'
          ? name
          : `https://sqs.${this.region}.amazonaws.com/${LOCAL_ACCOUNT}/${name}`;
      }
      case 'AWS::ECR::Repository': {
        // The repository of builds: local mode keeps its images in the container engine.
        const name = named('RepositoryName', () => generated(256).toLowerCase());
        return attribute === 'Arn' ? this.arn('ecr', `repository/${name}`) : name;
      }
      case 'AWS::Batch::JobQueue':
        return this.arn('batch', `job-queue/${named('JobQueueName', () => generated(128))}`);
      case 'AWS::Batch::JobDefinition':
        return this.arn('batch', `job-definition/${named('JobDefinitionName', () => generated(128))}:1`);
      default:
        // Resources local mode stands in for by none (user pool, REST API): a name that says so.
        return attribute === 'Ref' ? `${ref.logicalId}` : `${ref.logicalId}.${attribute}`;
    }
  }

  private output(stack: string, name: string): unknown {
    const output = this.template(stack).Outputs?.[name];
    if (!output) throw new Error(`${stack} has no output ${name}`);
    return this.resolve(stack, output.Value);
  }

  private importValue(exportName: string): unknown {
    for (const [stack, template] of Object.entries(this.platform.templates)) {
      for (const output of Object.values(template.Outputs ?? {}) as { Value: unknown; Export?: unknown }[]) {
        const exported = output.Export as { Name?: unknown } | undefined;
        if (exported && this.resolve(stack, exported.Name) === exportName)
          return this.resolve(stack, output.Value);
      }
    }
    throw new Error(`no stack exports ${exportName}`);
  }

  private substitute(stack: string, arg: unknown): string {
    const [text, variables = {}] = Array.isArray(arg)
      ? (arg as [string, Record<string, unknown>])
      : [String(arg)];
    return text.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
      if (name in variables) return String(this.resolve(stack, variables[name]));
      const [logicalId, attribute] = name.split(/\.(.*)/s, 2);
      return attribute === undefined
        ? this.ref(stack, logicalId)
        : this.attribute({ stack, logicalId }, attribute);
    });
  }
}

/** A UUID that a name always gives, for ids that AWS makes at random (key ids, stack ids). */
export function stableUuid(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
