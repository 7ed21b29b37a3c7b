import { randomUUID } from 'node:crypto';
import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { checkItemFits } from '../../api/item-limits';
import {
  ALGORITHM_ITEM_RESERVE_BYTES,
  AlgorithmInterface,
  AlgorithmRecord,
  algorithmView,
  DEFAULT_MEMORY_GB,
  DEFAULT_TIME_LIMIT_SECONDS,
} from '../algorithm-record';
import { putAlgorithm, putVersion, syncMemberships } from '../algorithm-store';
import { checkContainerImage } from '../container-image';
import { checkVersionImage } from '../image-checks';
import { deregisterJobDefinition, registerJobDefinition } from '../job-definitions';
import { checkInterfaces } from '../interface-rules';

parseEnvironment(operation);

interface CreateAlgorithmRequest {
  title: string;
  description?: string;
  interfaces: AlgorithmInterface[];
  timeLimitSeconds?: number;
  memoryGb?: number;
  gpu?: boolean;
  image?: string;
}

/**
 * `POST /v1/algorithms`: the caller becomes its first editor. With an image, that image is
 * version 1 and active, with its job definition registered; without one, the algorithm has no
 * active version until its editors push a build or add a version.
 */
export const handler = apiHandler<CreateAlgorithmRequest>(operation, async ({ caller, body }) => {
  checkInterfaces(body.interfaces);
  if (body.image !== undefined) checkContainerImage(body.image, 'body.image');
  const now = new Date().toISOString();
  const limits = {
    id: randomUUID(),
    timeLimitSeconds: body.timeLimitSeconds ?? DEFAULT_TIME_LIMIT_SECONDS,
    memoryGb: body.memoryGb ?? DEFAULT_MEMORY_GB,
    gpu: body.gpu ?? false,
  };
  const version =
    body.image === undefined ? undefined : { id: randomUUID(), image: body.image, createdAt: now };
  const unregistered: AlgorithmRecord = {
    ...limits,
    title: body.title,
    description: body.description,
    interfaces: body.interfaces,
    editors: [caller.userId],
    users: [],
    ...(version && { activeVersion: version }),
    revision: 1,
    createdAt: now,
    updatedAt: now,
  };
  // Nothing is registered or written for an algorithm that its item could not hold.
  checkItemFits(unregistered, 'the algorithm', ALGORITHM_ITEM_RESERVE_BYTES);
  if (!version) {
    await putAlgorithm(unregistered);
    await syncMemberships(undefined, unregistered);
    return { status: 201, body: algorithmView(unregistered, 'editor') };
  }
  await checkVersionImage(version.image, 'body.image');
  const activeVersion = { ...version, jobDefinition: await registerJobDefinition(limits, version) };
  const algorithm: AlgorithmRecord = { ...unregistered, activeVersion };
  // The version first: an algorithm item never points at a version that was not written.
  try {
    await putVersion(algorithm.id, activeVersion, caller.userId);
    await putAlgorithm(algorithm);
  } catch (err) {
    await deregisterJobDefinition(activeVersion.jobDefinition);
    throw err;
  }
  await syncMemberships(undefined, algorithm);
  return { status: 201, body: algorithmView(algorithm, 'editor') };
});
