import { PlatformConfig } from '../config/platform-config';

/**
 * Names of the AWS Batch resources that run jobs. The compute stack creates them under these
 * names; the api stack submits to them, follows their state changes and reads their logs. Names,
 * not references, so the API deploys and synthesizes on its own.
 */
export interface JobResourceNames {
  readonly gpuJobQueue: string;
  readonly cpuJobQueue: string;
  /** Each algorithm's job definition is this prefix and its id, one revision per version. */
  readonly algorithmJobDefinitionPrefix: string;
  /** The role the runner holds in a job (its job's folder only), and the role that pulls images and writes logs. */
  readonly jobRole: string;
  readonly jobExecutionRole: string;
  /**
   * Where the runner writes the algorithm's stdout and stderr as JSON lines: the job log group's
   * name begins with this (`nameUniqueToStack`).
   */
  readonly logGroup: string;
  /** Where a job instance whose boot hook failed tells so: its log group's name begins with this. */
  readonly bootFailureLogGroup: string;
  /** The converter container's queue: upload sets too large for the converter function, pictures, slides. */
  readonly converterJobQueue: string;
  /** The converter container's job definition; SubmitJob by name runs its latest active revision. */
  readonly converterJobDefinition: string;
  /** Where the converter container logs: its log group's name begins with this. */
  readonly converterLogGroup: string;
  /** The queue of the staging jobs that copy each job's inputs under its folder before it runs. */
  readonly inputStagingJobQueue: string;
  /** The input stager's job definition; SubmitJob by name runs its latest active revision. */
  readonly inputStagingJobDefinition: string;
  /** Where the input stager logs: its log group's name begins with this. */
  readonly inputStagingLogGroup: string;
}

export function jobResourceNames(config: PlatformConfig): JobResourceNames {
  return {
    gpuJobQueue: `${config.name}-gpu-jobs`,
    cpuJobQueue: `${config.name}-cpu-jobs`,
    algorithmJobDefinitionPrefix: `${config.name}-algorithm-`,
    jobRole: `${config.name}-job`,
    jobExecutionRole: `${config.name}-job-execution`,
    logGroup: `/${config.name}/jobs`,
    bootFailureLogGroup: `/${config.name}/job-instance-boot-failures`,
    converterJobQueue: `${config.name}-conversion-jobs`,
    converterJobDefinition: `${config.name}-image-converter`,
    converterLogGroup: `/${config.name}/image-converter`,
    inputStagingJobQueue: `${config.name}-job-input-staging`,
    inputStagingJobDefinition: `${config.name}-job-input-stager`,
    inputStagingLogGroup: `/${config.name}/job-input-stager`,
  };
}
