import { Stack, Validations } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct } from 'constructs';
import { acknowledgeInlinePolicy } from '../core/acknowledgements';
import { JobResourceNames } from './job-resource-names';
import {
  jobInputsPrefix,
  jobManifestKey,
  jobModelKey,
  jobOutputsPrefix,
  jobResultKey,
} from '../../lambda/contracts/bucket-layout';

export interface JobRolesProps {
  /**
   * The bucket that holds each job's folder, named as the consuming stack reads it (see
   * `publishedValue`), so that the acknowledgements of its key patterns match what cdk-nag reads.
   */
  readonly imagingBucket: s3.IBucket;
  /** The key that encrypts the bucket's objects. */
  readonly imagingKey: kms.IKey;
  /** The job and execution roles are named as the API passes them to the job definitions it registers. */
  readonly names: Pick<JobResourceNames, 'jobRole' | 'jobExecutionRole'>;
}

/** Any job's id where a key pattern needs one: Batch jobs are created at run time. */
const ANY_JOB = '*';

/**
 * The three roles a job runs under, each with only what its holder needs:
 * - the instance role: the ECS agent on a job instance, registering it and reporting task state;
 *   no image pulls and no logs, so that credentials taken from an instance are worth little;
 * - the execution role: the agent acting for a job, pulling its images and writing its logs;
 * - the job role: the job runner inside the job, reading the job's manifest and inputs and
 *   writing its outputs and result record, in the jobs folder of the imaging bucket only.
 */
export class JobRoles extends Construct {
  readonly instanceRole: iam.Role;
  readonly executionRole: iam.Role;
  readonly jobRole: iam.Role;

  constructor(scope: Construct, id: string, props: JobRolesProps) {
    super(scope, id);
    this.instanceRole = this.createInstanceRole();
    this.executionRole = this.createExecutionRole(props.names.jobExecutionRole);
    this.jobRole = this.createJobRole(props);
    for (const role of [this.instanceRole, this.executionRole, this.jobRole]) acknowledgeInlinePolicy(role);
  }

  /** Lets jobs run images from the repository. */
  grantImagePull(repository: ecr.IRepository): iam.Grant {
    return repository.grantPull(this.executionRole);
  }

  /**
   * What the ECS agent calls, as in AmazonEC2ContainerServiceforEC2Role without its image pulls
   * (the execution role pulls), its logs (the execution role writes them) and its cluster
   * creation (Batch creates the cluster).
   */
  private createInstanceRole(): iam.Role {
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'ECS agent on AWS Batch job instances',
    });
    const clusters = stack.formatArn({ service: 'ecs', resource: 'cluster', resourceName: '*' });
    const containerInstances = stack.formatArn({
      service: 'ecs',
      resource: 'container-instance',
      resourceName: '*',
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'ecs:RegisterContainerInstance',
          'ecs:DeregisterContainerInstance',
          'ecs:UpdateContainerInstancesState',
          'ecs:Poll',
          'ecs:StartTelemetrySession',
          'ecs:SubmitAttachmentStateChanges',
          'ecs:SubmitContainerStateChange',
          'ecs:SubmitTaskStateChange',
        ],
        resources: [clusters, containerInstances],
      }),
    );
    // DiscoverPollEndpoint takes no resource.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['ecs:DiscoverPollEndpoint'], resources: ['*'] }),
    );
    const reason =
      'Batch creates the ECS cluster of each compute environment, and its container instances, with names generated at run time; the ARN keeps the agent to clusters of this account and region, and the actions are those of the ECS agent only.';
    acknowledgeWildcard(role, clusters, reason);
    acknowledgeWildcard(role, containerInstances, reason);
    acknowledgeWildcard(
      role,
      '*',
      'ecs:DiscoverPollEndpoint supports no resource-level permission; it returns the endpoint the agent polls, nothing more.',
    );
    return role;
  }

  private createExecutionRole(roleName: string): iam.Role {
    const role = new iam.Role(this, 'ExecutionRole', {
      roleName,
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Pulls the images of AWS Batch jobs and writes their logs',
    });
    // Pulls from each repository are granted with it (grantImagePull, or the image of a job definition).
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
    );
    acknowledgeWildcard(
      role,
      '*',
      'ecr:GetAuthorizationToken supports no resource-level permission; the token opens only the repositories whose pulls the role is granted separately.',
    );
    return role;
  }

  private createJobRole({ imagingBucket, imagingKey, names }: JobRolesProps): iam.Role {
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'JobRole', {
      roleName: names.jobRole,
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'The job runner: reads the inputs and writes the outputs of jobs, in the jobs folder only',
    });
    const grantObjects = (actions: string[], keyPatterns: string[], what: string) => {
      const objects = keyPatterns.map((pattern) => imagingBucket.arnForObjects(pattern));
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: objects }));
      for (const arn of objects) {
        acknowledgeWildcard(
          role,
          arn,
          `Batch runs every job under this one role and job ids exist only at submission, so the key has the job id as a wildcard; the pattern keeps the runner to ${what} of jobs, and ${actions.join(', ')} is all it may do there.`,
        );
      }
    };
    grantObjects(
      ['s3:GetObject'],
      [jobManifestKey(ANY_JOB), `${jobInputsPrefix(ANY_JOB)}*`, jobModelKey(ANY_JOB)],
      'the manifests, inputs and models',
    );
    grantObjects(
      ['s3:PutObject', 's3:AbortMultipartUpload'],
      [`${jobOutputsPrefix(ANY_JOB)}*`, jobResultKey(ANY_JOB)],
      'the outputs and result records',
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [imagingKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
      }),
    );
    return role;
  }
}

/** Acknowledges cdk-nag's wildcard finding for one resource, quoted as cdk-nag flattens it. */
function acknowledgeWildcard(role: iam.Role, arn: string, reason: string): void {
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(role).resolve(arn))}]`,
    reason,
  });
}
