import { randomUUID } from 'node:crypto';
import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { getEditableAlgorithm, putVersion, updateAlgorithm } from '../algorithm-store';
import { checkContainerImage } from '../container-image';
import { checkVersionImage } from '../image-checks';
import { versionView } from '../algorithm-record';
import { deregisterJobDefinition, registerJobDefinition } from '../job-definitions';

parseEnvironment(operation);

/**
 * `POST /v1/algorithms/{algorithmId}/versions`: editors add an image, which becomes active with a
 * job definition of its own; the retired version's definition is deregistered.
 */
export const handler = apiHandler<{ image: string }>(operation, async ({ caller, pathParameters, body }) => {
  checkContainerImage(body.image, 'body.image');
  await checkVersionImage(body.image, 'body.image');
  const algorithm = await getEditableAlgorithm(pathParameters.algorithmId, caller.userId);
  const unregistered = { id: randomUUID(), image: body.image, createdAt: new Date().toISOString() };
  const version = { ...unregistered, jobDefinition: await registerJobDefinition(algorithm, unregistered) };
  try {
    await putVersion(algorithm.id, version, caller.userId);
    await updateAlgorithm(algorithm, { activeVersion: version });
  } catch (err) {
    await deregisterJobDefinition(version.jobDefinition);
    throw err;
  }
  await deregisterJobDefinition(algorithm.activeVersion.jobDefinition);
  return { status: 201, body: versionView(version) };
});
