import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ContainerDeployment, HandlerDeployment } from '../../lambda/contracts/handler-deployment';
import { environmentVariables, PlatformSettings } from '../../lambda/contracts/handler-environment';
import { HandlerPermissions } from '../../lambda/contracts/permissions';
import { TableName } from '../../lambda/contracts/tables';
import { VIEWER_FLEET_TAG } from '../../lambda/contracts/viewer-host';
import { ConfigSettings } from '../config/config-settings';
import { PageTokenKey } from '../data/page-token-key';
import { SessionSigningKey } from '../sessions/session-signing-key';
import { PlatformTables } from '../data/platform-tables';
import { ImagingDistribution } from '../delivery/imaging-distribution';
import { WorkQueue } from './work-queue';
import { BuildAccess } from '../builds/build-access';
import { JobAccess } from '../jobs/job-access';
import { acknowledgeWildcard } from './acknowledgements';

export interface HandlerAccessProps {
  readonly tables: PlatformTables;
  /** The imaging bucket, imported into the stack of the handlers. */
  readonly imagingBucket: s3.IBucket;
  /** The bucket's SSE-KMS key. */
  readonly objectKey: kms.IKey;
  /** Images waiting for the converter. */
  readonly conversionQueue: WorkQueue;
  /** Builds waiting for the pipeline. */
  readonly buildQueue: WorkQueue;
  /** The build pipeline, its project and the repository, by name. */
  readonly builds: BuildAccess;
  /** Serves converted images through signed URLs. */
  readonly imagingDistribution: ImagingDistribution;
  /** Signs the page tokens of list operations. */
  readonly pageTokenKey: PageTokenKey;
  /** Signs viewer session credentials. */
  readonly sessionSigningKey: SessionSigningKey;
  /** The Batch resources that run jobs and conversions. */
  readonly jobs: JobAccess;
  /** The settings that come from the configuration. */
  readonly config: ConfigSettings;
}

/**
 * Deploys what a handler's (or container's) deployment says: its permissions as narrow IAM
 * statements on named tables, object prefixes and the key, never `*Data` grants; and its
 * environment, from the same settings local mode gives its handlers.
 */
export class HandlerAccess {
  /** Every setting, as deployed. */
  readonly settings: PlatformSettings;

  constructor(private readonly props: HandlerAccessProps) {
    const {
      tables,
      imagingBucket,
      conversionQueue,
      buildQueue,
      builds,
      imagingDistribution,
      pageTokenKey,
      sessionSigningKey,
      jobs,
      config,
    } = props;
    this.settings = {
      ...config,
      ...tables.nameSettings,
      imagingBucket: imagingBucket.bucketName,
      // Part URLs use the Transfer Acceleration endpoint, which the data stack enables on the bucket.
      s3Accelerate: true,
      conversionQueueUrl: conversionQueue.queue.queueUrl,
      converterJobQueue: jobs.names.converterJobQueue,
      converterJobDefinition: jobs.names.converterJobDefinition,
      // The function's own /tmp; the converter container has a scratch volume instead.
      conversionWorkDir: '/tmp',
      ...imagingDistribution.signingSettings,
      pageTokenSecretArn: pageTokenKey.secret.secretArn,
      sessionSigningKeySecretArn: sessionSigningKey.privateKeySecretArn,
      gpuJobQueue: jobs.names.gpuJobQueue,
      cpuJobQueue: jobs.names.cpuJobQueue,
      inputStagingJobQueue: jobs.names.inputStagingJobQueue,
      inputStagingJobDefinition: jobs.names.inputStagingJobDefinition,
      jobLogGroup: jobs.logGroupName,
      jobDefinitionPrefix: jobs.names.algorithmJobDefinitionPrefix,
      jobRoleArn: jobs.jobRoleArn,
      jobExecutionRoleArn: jobs.jobExecutionRoleArn,
      localImagesAllowed: false,
      buildQueueUrl: buildQueue.queue.queueUrl,
      buildPipelineName: builds.names.pipeline,
      buildLogGroup: builds.logGroupName,
      algorithmRepositoryUri: builds.repositoryUri,
    };
  }

  /** The environment of a handler or container, with `overrides` for settings that differ where it runs. */
  environment(
    deployment: HandlerDeployment | ContainerDeployment,
    overrides: Partial<PlatformSettings> = {},
  ): Record<string, string> {
    return environmentVariables(deployment, { ...this.settings, ...overrides });
  }

  /** Grants `grantee` exactly `permissions`. */
  grant(grantee: iam.IGrantable, permissions: HandlerPermissions): iam.Grant {
    const {
      tables,
      imagingBucket,
      objectKey,
      conversionQueue,
      buildQueue,
      builds,
      imagingDistribution,
      pageTokenKey,
      sessionSigningKey,
      jobs,
    } = this.props;
    const grants: iam.Grant[] = [];
    for (const [name, actions] of Object.entries(permissions.tables ?? {})) {
      grants.push(tables.grant(grantee, name as TableName, actions));
    }
    for (const [name, indexes] of Object.entries(permissions.indexQueries ?? {})) {
      grants.push(tables.grantIndexQuery(grantee, name as TableName, indexes));
    }
    for (const { prefix, actions } of permissions.imagingObjects ?? []) {
      const objects = imagingBucket.arnForObjects(`${prefix}*`);
      grants.push(iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [objects] }));
      acknowledgeWildcard(
        grantee,
        objects,
        `Object keys under ${prefix} are made per user, upload, image and job at run time, so no exact ARN exists beforehand; the prefix keeps the holder to them, and ${actions.join(', ')} is all it may do there.`,
      );
    }
    if (permissions.objectEncryption?.length) {
      grants.push(
        iam.Grant.addToPrincipal({
          grantee,
          actions: [...permissions.objectEncryption],
          resourceArns: [objectKey.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `s3.${Stack.of(objectKey).region}.amazonaws.com` },
          },
        }),
      );
    }
    if (permissions.queuesConversions) grants.push(conversionQueue.grantSendMessages(grantee));
    if (permissions.submitsConversions) grants.push(jobs.grantSubmitConversion(grantee));
    if (permissions.signsImageUrls) grants.push(imagingDistribution.grantSignedUrls(grantee));
    if (permissions.signsPageTokens) grants.push(pageTokenKey.grantUse(grantee));
    if (permissions.signsSessionCredentials) grants.push(sessionSigningKey.grantSign(grantee));
    if (permissions.readsViewerEndpoints) {
      const { viewerRegions, viewerEndpointParameterName } = this.props.config;
      const stack = Stack.of(objectKey);
      const resourceArns = viewerRegions.map((region) =>
        stack.formatArn({
          service: 'ssm',
          region,
          resource: 'parameter',
          resourceName: viewerEndpointParameterName.replace(/^\//, ''),
        }),
      );
      grants.push(iam.Grant.addToPrincipal({ grantee, actions: ['ssm:GetParameter'], resourceArns }));
    }
    if (permissions.wakesViewerFleets) grants.push(this.grantWakeViewerFleets(grantee));
    if (permissions.submitsJobs) grants.push(jobs.grantSubmit(grantee));
    if (permissions.activatesVersions) grants.push(jobs.grantActivateVersions(grantee));
    if (permissions.terminatesJobs) grants.push(jobs.grantTerminate(grantee));
    if (permissions.readsJobLogs) grants.push(jobs.grantReadLogs(grantee));
    if (permissions.watchesJobQueues) grants.push(jobs.grantWatchQueues(grantee));
    if (permissions.queuesBuilds) grants.push(buildQueue.grantSendMessages(grantee));
    if (permissions.runsBuilds?.length) grants.push(builds.grantRun(grantee, permissions.runsBuilds));
    if (permissions.reportsPipelineJobs) grants.push(builds.grantReportPipelineJobs(grantee));
    if (permissions.managesBuildImages?.length) {
      grants.push(builds.grantManageImages(grantee, permissions.managesBuildImages));
    }
    if (permissions.readsBuildLogs) grants.push(builds.grantReadLogs(grantee));
    if (permissions.managesSigningKeys) {
      throw new Error(
        'the secrets of signing keys are granted by the constructs that own them (UrlSigningKeyPair, SessionSigningKey)',
      );
    }
    return grants.reduce((all, grant) => all.combine(grant), iam.Grant.drop(grantee, 'nothing'));
  }

  /**
   * Finding the viewer regions' groups (DescribeAutoScalingGroups knows no resource) and setting
   * the capacity of a group only where it carries the platform's fleet tag: a group's name and id
   * are made when its region's stack deploys, after this one.
   */
  private grantWakeViewerFleets(grantee: iam.IGrantable): iam.Grant {
    const { viewerRegions, viewerFleetName } = this.props.config;
    const stack = Stack.of(this.props.objectKey);
    const groups = viewerRegions.map((region) =>
      stack.formatArn({
        service: 'autoscaling',
        region,
        resource: 'autoScalingGroup',
        resourceName: '*:autoScalingGroupName/*',
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    for (const arn of ['*', ...groups]) {
      acknowledgeWildcard(
        grantee,
        arn,
        arn === '*'
          ? 'autoscaling:DescribeAutoScalingGroups supports no resource-level permissions (Service Authorization Reference); it reads, and changes nothing.'
          : "A viewer region's group is named and given its id when that region's stack deploys; autoscaling:SetDesiredCapacity is allowed only on groups tagged as this platform's viewer fleet.",
      );
    }
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['autoscaling:DescribeAutoScalingGroups'],
      resourceArns: ['*'],
    }).combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['autoscaling:SetDesiredCapacity'],
        resourceArns: groups,
        conditions: {
          StringEquals: { [`autoscaling:ResourceTag/${VIEWER_FLEET_TAG}`]: viewerFleetName },
        },
      }),
    );
  }
}
