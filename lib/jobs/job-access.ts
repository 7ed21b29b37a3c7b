import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { JobQueueKind } from '../../lambda/contracts/handler-deployment';
import { acknowledge, acknowledgeWildcard, REASONS } from '../core/acknowledgements';
import { JobResourceNames } from './job-resource-names';

/**
 * What handlers may do with the Batch resources that run jobs and conversions, which the compute
 * stack creates under the names of `jobResourceNames`: names, not references, because algorithm
 * job definitions and Batch jobs are made at run time.
 */
export class JobAccess {
  /** The queues whose state changes functions follow, by kind. */
  readonly jobQueueArns: Readonly<Record<JobQueueKind, string>>;
  /** The queue of the staging jobs that copy each job's inputs before it runs. */
  readonly inputStagingQueueArn: string;
  readonly jobRoleArn: string;
  readonly jobExecutionRoleArn: string;
  private readonly stack: Stack;

  constructor(
    scope: Construct,
    readonly names: JobResourceNames,
    /** The job log group's name, as the compute stack made it. */
    readonly logGroupName: string,
  ) {
    this.stack = Stack.of(scope);
    const queue = (name: string) =>
      this.stack.formatArn({
        service: 'batch',
        resource: 'job-queue',
        resourceName: name,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
    this.jobQueueArns = {
      gpu: queue(names.gpuJobQueue),
      cpu: queue(names.cpuJobQueue),
      converter: queue(names.converterJobQueue),
    };
    this.inputStagingQueueArn = queue(names.inputStagingJobQueue);
    const role = (name: string) =>
      this.stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: name });
    this.jobRoleArn = role(names.jobRole);
    this.jobExecutionRoleArn = role(names.jobExecutionRole);
  }

  /**
   * batch:SubmitJob to the two queues with an algorithm version's job definition, any revision,
   * and to the input staging queue with the input stager's definition, which copies a job's
   * inputs before it runs.
   */
  grantSubmit(grantee: iam.IGrantable): iam.Grant {
    const definitions = this.definitionArn(`${this.names.algorithmJobDefinitionPrefix}*:*`);
    const stagers = this.definitionArn(`${this.names.inputStagingJobDefinition}:*`);
    return this.grant(
      grantee,
      ['batch:SubmitJob', 'batch:TagResource'],
      [this.jobQueueArns.gpu, this.jobQueueArns.cpu, definitions],
      definitions,
      "Each algorithm's job definition is named by its id and each registration by a revision number, both made at run time; the prefix limits it to the platform's definitions.",
    ).combine(
      this.grant(
        grantee,
        ['batch:SubmitJob'],
        [this.inputStagingQueueArn, stagers],
        stagers,
        'Batch names each registration of the job definition by a revision number that grows with every deploy of the input stager; the name limits it to the stager.',
      ),
    );
  }

  /**
   * Reads algorithm images' manifests, configurations and scans in the account's ECR, registers
   * and deregisters the algorithms' job definitions, passing them the job role and the execution
   * role (to Batch only).
   */
  grantActivateVersions(grantee: iam.IGrantable): iam.Grant {
    const definitions = this.definitionArn(`${this.names.algorithmJobDefinitionPrefix}*`);
    const repositories = this.stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: '*' });
    return this.grant(
      grantee,
      ['batch:RegisterJobDefinition', 'batch:DeregisterJobDefinition', 'batch:TagResource'],
      [definitions],
      definitions,
      "Each algorithm's job definition is named by its id, made at run time; the prefix limits it to the platform's definitions.",
    )
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['iam:PassRole'],
          resourceArns: [this.jobRoleArn, this.jobExecutionRoleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'batch.amazonaws.com' } },
        }),
      )
      .combine(
        this.grant(
          grantee,
          ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:DescribeImageScanFindings'],
          [repositories],
          repositories,
          "Editors name their image's repository; the actions only read an image's manifest, configuration and scan results of this account's repositories, never push or delete.",
        ),
      );
  }

  /** batch:SubmitJob to the converter queue with the converter's job definition, any revision. */
  grantSubmitConversion(grantee: iam.IGrantable): iam.Grant {
    const definitions = this.definitionArn(`${this.names.converterJobDefinition}:*`);
    return this.grant(
      grantee,
      ['batch:SubmitJob'],
      [this.jobQueueArns.converter, definitions],
      definitions,
      'Batch names each registration of the job definition by a revision number that grows with every deploy of the converter image; the name limits it to the converter.',
    );
  }

  /** batch:TerminateJob on jobs of this account and region: Batch job ids exist only once submitted. */
  grantTerminate(grantee: iam.IGrantable): iam.Grant {
    const jobs = this.stack.formatArn({ service: 'batch', resource: 'job', resourceName: '*' });
    return this.grant(
      grantee,
      ['batch:TerminateJob'],
      [jobs],
      jobs,
      'A Batch job ARN exists only after submission; the handler terminates only the Batch job recorded on a job that the caller may cancel.',
    );
  }

  /**
   * batch:ListJobs and batch:DescribeJobs, which read the jobs of the platform's queues (the
   * function that watches how long they wait). Neither action names a resource.
   */
  grantWatchQueues(grantee: iam.IGrantable): iam.Grant {
    const role = grantee.grantPrincipal;
    if (Construct.isConstruct(role)) {
      acknowledge(role, {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: `${REASONS.xrayWildcard} Neither do batch:ListJobs and batch:DescribeJobs, which only read jobs.`,
      });
    }
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['batch:ListJobs', 'batch:DescribeJobs'],
      resourceArns: ['*'],
    });
  }

  /** logs:GetLogEvents on the streams of the job log group. */
  grantReadLogs(grantee: iam.IGrantable): iam.Grant {
    const streams = this.stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: `${this.logGroupName}:log-stream:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    return this.grant(
      grantee,
      ['logs:GetLogEvents'],
      [streams],
      streams,
      'Each job attempt writes its own log stream, named by Batch at run time; the group holds only job logs.',
    );
  }

  /** `actions` on `resources`, whose `wildcard` cdk-nag is told why, with `reason`. */
  private grant(
    grantee: iam.IGrantable,
    actions: string[],
    resources: string[],
    wildcard: string,
    reason: string,
  ): iam.Grant {
    acknowledgeWildcard(grantee, wildcard, reason);
    return iam.Grant.addToPrincipal({ grantee, actions, resourceArns: resources });
  }

  private definitionArn(resourceName: string): string {
    return this.stack.formatArn({
      service: 'batch',
      resource: 'job-definition',
      resourceName,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }
}
