import type { RegisterJobDefinitionCommandInput } from '@aws-sdk/client-batch';
import { JOB_DEFINITIONS } from '../contracts/job-definitions';
import { JOB_LOGS } from '../contracts/job-queues';
import { RUNNER_GRACE } from '../contracts/job-runner';
import { Settings } from '../contracts/settings';
import { JOB_RETRY_STRATEGY } from '../jobs/job-retry-strategy';
import { AlgorithmRecord, AlgorithmVersionRef } from './algorithm-record';

/** Where job definitions are registered, and for whom. */
export type JobDefinitionSettings = Settings<typeof JOB_DEFINITIONS.shape> & Settings<typeof JOB_LOGS.shape>;

/** Seconds the runner has besides the algorithm's limit: placing inputs, storing outputs. */
export const STAGING_SECONDS = 300;

/** Seconds between SIGTERM and SIGKILL at the time limit. */
export const GRACE_SECONDS = 30;

/**
 * The job definition of an algorithm version: one revision of the algorithm's definition, with
 * the version's image (the runner layered onto the author's image, as its ENTRYPOINT), the
 * algorithm's memory and GPU, the time limit as the timeout, a read-only root with scratch
 * volumes of the job's own for /input, /output, /tmp and /opt/ml/model, no privileges, no swap, and logs to
 * the platform's job log group. The runner starts as the image's root and runs the algorithm
 * as the image's own USER (docs/job-isolation.md).
 */
export function jobDefinitionInput(
  settings: JobDefinitionSettings,
  algorithm: Pick<AlgorithmRecord, 'id' | 'memoryGb' | 'gpu' | 'timeLimitSeconds'>,
  version: AlgorithmVersionRef,
): RegisterJobDefinitionCommandInput {
  const memoryMiB = algorithm.memoryGb * 1024;
  // g4dn instances have 4 vCPUs per GPU; CPU algorithms get one vCPU per 4 GB.
  const vcpus = algorithm.gpu ? 4 : Math.max(1, Math.ceil(algorithm.memoryGb / 4));
  // The runner places the model (as root, without write bits) on a volume of its own, outside the
  // writable root's quota; without a model the volume holds what the image has there.
  const scratch = [
    { name: 'input', path: '/input' },
    { name: 'output', path: '/output' },
    { name: 'model', path: '/opt/ml/model' },
  ];
  return {
    jobDefinitionName: `${settings.jobDefinitionPrefix}${algorithm.id}`,
    type: 'container',
    platformCapabilities: ['EC2'],
    parameters: { inputManifest: '' },
    containerProperties: {
      image: version.image,
      command: ['--manifest', 'Ref::inputManifest'],
      jobRoleArn: settings.jobRoleArn,
      executionRoleArn: settings.jobExecutionRoleArn,
      resourceRequirements: [
        { type: 'VCPU', value: String(vcpus) },
        { type: 'MEMORY', value: String(memoryMiB) },
        ...(algorithm.gpu ? [{ type: 'GPU' as const, value: '1' }] : []),
      ],
      // Code that works on grand-challenge writes to ~/.cache, its working directory and its own
      // package folders; each container's writes are capped by `overlay2.size` (lib/jobs/container-volume.ts).
      readonlyRootFilesystem: false,
      privileged: false,
      // Volumes without a host path are made for the job's task alone and removed with it.
      volumes: scratch.map(({ name }) => ({ name })),
      mountPoints: scratch.map(({ name, path }) => ({
        sourceVolume: name,
        containerPath: path,
        readOnly: false,
      })),
      linuxParameters: { sharedMemorySize: memoryMiB / 2, maxSwap: 0, swappiness: 0 },
      ulimits: [
        { name: 'nproc', softLimit: 1024, hardLimit: 1024 },
        { name: 'nofile', softLimit: 65536, hardLimit: 65536 },
      ],
      environment: Object.entries(RUNNER_GRACE.variables({ graceSeconds: GRACE_SECONDS })).map(
        ([name, value]) => ({ name, value }),
      ),
      logConfiguration: {
        logDriver: 'awslogs',
        options: { 'awslogs-group': settings.jobLogGroup, 'awslogs-stream-prefix': 'job' },
      },
    },
    timeout: { attemptDurationSeconds: algorithm.timeLimitSeconds + STAGING_SECONDS },
    retryStrategy: {
      attempts: JOB_RETRY_STRATEGY.attempts,
      evaluateOnExit: JOB_RETRY_STRATEGY.evaluateOnExit.map((rule) => ({ ...rule })),
    },
    propagateTags: true,
    tags: { 'imaging-platform:algorithm': algorithm.id, 'imaging-platform:version': version.id },
  };
}
