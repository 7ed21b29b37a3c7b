import {
  BatchClient,
  DeregisterJobDefinitionCommand,
  RegisterJobDefinitionCommand,
} from '@aws-sdk/client-batch';
import { logger } from '../core/logger';
import { AlgorithmRecord, AlgorithmVersionRef } from './algorithm-record';
import { JOB_DEFINITIONS } from '../contracts/job-definitions';
import { JOB_LOGS } from '../contracts/job-queues';
import { jobDefinitionInput } from './job-definition';

let batch: BatchClient | undefined;
const client = () => (batch ??= new BatchClient({}));

/** Registers the job definition of a version about to become active; returns its ARN (name:revision). */
export async function registerJobDefinition(
  algorithm: Pick<AlgorithmRecord, 'id' | 'memoryGb' | 'gpu' | 'timeLimitSeconds'>,
  version: AlgorithmVersionRef,
): Promise<string> {
  const registered = await client().send(
    new RegisterJobDefinitionCommand(
      jobDefinitionInput({ ...JOB_DEFINITIONS.read(), ...JOB_LOGS.read() }, algorithm, version),
    ),
  );
  return registered.jobDefinitionArn!;
}

/**
 * Deregisters the definition of a retired version. Jobs already submitted with it still run; a
 * failure is logged and left, since an inactive revision costs nothing and the next one works.
 */
export async function deregisterJobDefinition(jobDefinition: string | undefined): Promise<void> {
  if (!jobDefinition) return;
  try {
    await client().send(new DeregisterJobDefinitionCommand({ jobDefinition }));
  } catch (err) {
    logger.warn('the job definition of a retired version could not be deregistered', {
      jobDefinition,
      error: err as Error,
    });
  }
}
