import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct } from 'constructs';
import { JobResourceNames } from './job-resource-names';

export interface JobAccessProps {
  readonly names: JobResourceNames;
  /** Active-job limits as handler variables (`jobHandlerEnvironment(config)`). */
  readonly limitsEnvironment: Readonly<Record<string, string>>;
  /** Whether an image whose scan found critical vulnerabilities may become an active version. */
  readonly criticalFindings: 'refuse' | 'allow';
}

/** What handlers may do with the Batch resources that run jobs, and the variables that name them. */
export class JobAccess {
  readonly gpuJobQueueArn: string;
  readonly cpuJobQueueArn: string;
  readonly converterJobQueueArn: string;
  private readonly stack: Stack;

  constructor(
    scope: Construct,
    private readonly props: JobAccessProps,
  ) {
    this.stack = Stack.of(scope);
    const arn = (resource: string, resourceName: string, arnFormat = ArnFormat.SLASH_RESOURCE_NAME) =>
      this.stack.formatArn({ service: 'batch', resource, resourceName, arnFormat });
    this.gpuJobQueueArn = arn('job-queue', props.names.gpuJobQueue);
    this.cpuJobQueueArn = arn('job-queue', props.names.cpuJobQueue);
    this.converterJobQueueArn = arn('job-queue', props.names.converterJobQueue);
  }

  /** Limits, queues and job definition, which `jobSettings()` reads. */
  setSettings(fn: lambda.Function): void {
    fn.addEnvironment('GPU_JOB_QUEUE', this.props.names.gpuJobQueue);
    fn.addEnvironment('CPU_JOB_QUEUE', this.props.names.cpuJobQueue);
    fn.addEnvironment('JOB_DEFINITION_PREFIX', this.props.names.algorithmJobDefinitionPrefix);
    for (const [name, value] of Object.entries(this.props.limitsEnvironment)) fn.addEnvironment(name, value);
  }

  /** batch:SubmitJob to the two queues with an algorithm version's job definition, any revision. */
  grantSubmit(fn: lambda.Function): void {
    const definitions = this.definitionArn(`${this.props.names.algorithmJobDefinitionPrefix}*:*`);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['batch:SubmitJob', 'batch:TagResource'],
        resources: [this.gpuJobQueueArn, this.cpuJobQueueArn, definitions],
      }),
    );
    this.acknowledgeWildcard(
      fn,
      definitions,
      "Each algorithm's job definition is named by its id and each registration by a revision number, both made at run time; the prefix limits it to the platform's definitions.",
    );
  }

  /**
   * Reads algorithm images' manifests, configurations and scans in the account's ECR, registers
   * and deregisters the algorithms' job definitions, passing them the job role and the execution
   * role (to Batch only), and gets the settings `jobDefinitionSettings()` reads.
   */
  grantActivateVersions(fn: lambda.Function): void {
    const names = this.props.names;
    const definitions = this.definitionArn(`${names.algorithmJobDefinitionPrefix}*`);
    const role = (name: string) =>
      this.stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: name });
    fn.addEnvironment('JOB_DEFINITION_PREFIX', names.algorithmJobDefinitionPrefix);
    fn.addEnvironment('JOB_ROLE_ARN', role(names.jobRole));
    fn.addEnvironment('JOB_EXECUTION_ROLE_ARN', role(names.jobExecutionRole));
    fn.addEnvironment('JOB_LOG_GROUP', names.logGroup);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['batch:RegisterJobDefinition', 'batch:DeregisterJobDefinition', 'batch:TagResource'],
        resources: [definitions],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [role(names.jobRole), role(names.jobExecutionRole)],
        conditions: { StringEquals: { 'iam:PassedToService': 'batch.amazonaws.com' } },
      }),
    );
    this.acknowledgeWildcard(
      fn,
      definitions,
      "Each algorithm's job definition is named by its id, made at run time; the prefix limits it to the platform's definitions.",
    );
    const repositories = this.stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: '*' });
    fn.addEnvironment('IMAGE_CRITICAL_FINDINGS', this.props.criticalFindings);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:DescribeImageScanFindings'],
        resources: [repositories],
      }),
    );
    this.acknowledgeWildcard(
      fn,
      repositories,
      "Editors name their image's repository; the actions only read an image's manifest, configuration and scan results of this account's repositories, never push or delete.",
    );
  }

  private definitionArn(resourceName: string): string {
    return this.stack.formatArn({
      service: 'batch',
      resource: 'job-definition',
      resourceName,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  /**
   * batch:SubmitJob to the converter queue with the converter's job definition, any revision, and
   * the variables naming them (`converterJobSettings()` reads them).
   */
  grantSubmitConversion(fn: lambda.Function): void {
    const definitions = this.stack.formatArn({
      service: 'batch',
      resource: 'job-definition',
      resourceName: `${this.props.names.converterJobDefinition}:*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['batch:SubmitJob'],
        resources: [this.converterJobQueueArn, definitions],
      }),
    );
    fn.addEnvironment('CONVERTER_JOB_QUEUE', this.props.names.converterJobQueue);
    fn.addEnvironment('CONVERTER_JOB_DEFINITION', this.props.names.converterJobDefinition);
    this.acknowledgeWildcard(
      fn,
      definitions,
      'Batch names each registration of the job definition by a revision number that grows with every deploy of the converter image; the name limits it to the converter.',
    );
  }

  /** batch:TerminateJob on jobs of this account and region: Batch job ids exist only once submitted. */
  grantTerminate(fn: lambda.Function): void {
    const jobs = this.stack.formatArn({ service: 'batch', resource: 'job', resourceName: '*' });
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['batch:TerminateJob'], resources: [jobs] }));
    this.acknowledgeWildcard(
      fn,
      jobs,
      'A Batch job ARN exists only after submission; the handler terminates only the Batch job recorded on a job that the caller may cancel.',
    );
  }

  /** logs:GetLogEvents on the streams of the job log group, whose name it gets. */
  grantReadLogs(fn: lambda.Function): void {
    const streams = this.stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: `${this.props.names.logGroup}:log-stream:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['logs:GetLogEvents'], resources: [streams] }));
    fn.addEnvironment('JOB_LOG_GROUP', this.props.names.logGroup);
    this.acknowledgeWildcard(
      fn,
      streams,
      'Each job attempt writes its own log stream, named by Batch at run time; the group holds only job logs.',
    );
  }

  private acknowledgeWildcard(fn: lambda.Function, arn: string, reason: string): void {
    // The finding quotes the ARN as cdk-nag flattens it, resolved the same way here.
    Validations.of(fn.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(this.stack.resolve(arn))}]`,
      reason,
    });
  }
}
