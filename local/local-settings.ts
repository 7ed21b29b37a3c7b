import type { PlatformSettings } from '../lambda/contracts/handler-environment';
import { TABLES, TableName, TableNameSetting } from '../lambda/contracts/tables';
import { configSettings } from '../lib/config/config-settings';
import { PlatformConfig } from '../lib/config/platform-config';
import { jobResourceNames } from '../lib/jobs/job-resource-names';
import { buildResourceNames } from '../lib/builds/build-resource-names';

/** What local mode's settings name besides the configuration: its embedded services' resources. */
export interface LocalResources {
  readonly bucketName: string;
  readonly conversionQueueUrl: string;
  readonly buildQueueUrl: string;
  /** The build log group, as synthesized. */
  readonly buildLogGroup: string;
  readonly imagesBaseUrl: string;
  /** The secret that names the current URL-signing key pair. */
  readonly currentSigningKeySecretArn: string;
  readonly pageTokenSecretArn: string;
  /** The secret that holds the session signing key. */
  readonly sessionSigningKeySecretArn: string;
  /** Origin of the local viewer server. */
  readonly viewerOrigin: string;
  /** The converter function's /tmp. */
  readonly conversionWorkDir: string;
}

/** The name of each table in the embedded DynamoDB: `local-uploads` for `uploads`. */
export function localTableName(table: TableName): string {
  return `local-${table}`;
}

/** The Batch resources of local mode, named as a deployment named `local` names them. */
export function localJobResourceNames(config: PlatformConfig) {
  return jobResourceNames({ ...config, name: 'local' });
}

/**
 * Every setting of the platform as local mode gives it to its handlers: the same settings a
 * deployment gives, from the same configuration, naming the embedded services' resources.
 */
export function localSettings(config: PlatformConfig, resources: LocalResources): PlatformSettings {
  const names = localJobResourceNames(config);
  const builds = buildResourceNames({ name: 'local' });
  const account = '000000000000';
  return {
    // Named as a deployment named `local` names what it names (the viewer endpoint parameter).
    ...configSettings({ ...config, name: 'local' }),
    ...(Object.fromEntries(
      (Object.keys(TABLES) as TableName[]).map((table) => [`${table}Table`, localTableName(table)]),
    ) as { [T in TableName as TableNameSetting<T>]: string }),
    imagingBucket: resources.bucketName,
    // The embedded S3 has no Transfer Acceleration endpoint.
    s3Accelerate: false,
    conversionQueueUrl: resources.conversionQueueUrl,
    converterJobQueue: names.converterJobQueue,
    converterJobDefinition: names.converterJobDefinition,
    conversionWorkDir: resources.conversionWorkDir,
    imagesBaseUrl: resources.imagesBaseUrl,
    currentSigningKeySecretArn: resources.currentSigningKeySecretArn,
    pageTokenSecretArn: resources.pageTokenSecretArn,
    sessionSigningKeySecretArn: resources.sessionSigningKeySecretArn,
    viewerOrigin: resources.viewerOrigin,
    gpuJobQueue: names.gpuJobQueue,
    cpuJobQueue: names.cpuJobQueue,
    inputStagingJobQueue: names.inputStagingJobQueue,
    inputStagingJobDefinition: names.inputStagingJobDefinition,
    jobLogGroup: names.logGroup,
    jobDefinitionPrefix: names.algorithmJobDefinitionPrefix,
    jobRoleArn: `arn:aws:iam::${account}:role/${names.jobRole}`,
    jobExecutionRoleArn: `arn:aws:iam::${account}:role/${names.jobExecutionRole}`,
    // Algorithms may name images built on this machine.
    localImagesAllowed: true,
    buildQueueUrl: resources.buildQueueUrl,
    buildPipelineName: builds.pipeline,
    buildLogGroup: resources.buildLogGroup,
    // Builds stay in the local container engine, named as localhost images are.
    algorithmRepositoryUri: `localhost/${builds.repository}`,
  };
}
