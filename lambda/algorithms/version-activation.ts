import { ApiError } from '../api/api-error';
import { AlgorithmRecord, AlgorithmVersionRef } from './algorithm-record';
import { putVersion, updateAlgorithm } from './algorithm-store';
import { deregisterJobDefinition, registerJobDefinition } from './job-definitions';

/** A version about to be written: its image, checked already. */
export interface NewVersion {
  readonly id: string;
  readonly image: string;
  readonly createdAt: string;
}

/**
 * Makes a checked image the algorithm's active version: registers its job definition, writes the
 * version, then points the algorithm at it, and deregisters the definition of the version it
 * retires. The algorithm's item is written only if nobody changed it since it was read; a
 * conflict reads it again (`read`) up to `attempts` times in all. On any failure the new
 * definition is deregistered, so none stays registered for a version that is not active. The
 * version it retired, if any, is then handed to `retired` (its image's repository tags).
 */
export async function activateVersion(
  read: () => Promise<AlgorithmRecord>,
  version: NewVersion,
  createdBy: string,
  options: {
    readonly attempts?: number;
    readonly retired?: (version: AlgorithmVersionRef) => Promise<void>;
  } = {},
): Promise<AlgorithmVersionRef> {
  const attempts = options.attempts ?? 1;
  let algorithm = await read();
  const registered: AlgorithmVersionRef = {
    ...version,
    jobDefinition: await registerJobDefinition(algorithm, version),
  };
  let retired: AlgorithmVersionRef | undefined;
  try {
    await putVersion(algorithm.id, registered, createdBy);
    for (let attempt = 1; ; attempt++) {
      try {
        await updateAlgorithm(algorithm, { activeVersion: registered });
        retired = algorithm.activeVersion;
        break;
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 409) || attempt >= attempts) throw err;
        algorithm = await read();
      }
    }
  } catch (err) {
    await deregisterJobDefinition(registered.jobDefinition);
    throw err;
  }
  await deregisterJobDefinition(retired?.jobDefinition);
  if (retired && options.retired) await options.retired(retired);
  return registered;
}
