import { randomUUID } from 'node:crypto';
import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { getEditableAlgorithm } from '../algorithm-store';
import { checkContainerImage } from '../container-image';
import { checkVersionImage } from '../image-checks';
import { versionView } from '../algorithm-record';
import { activateVersion } from '../version-activation';
import { retireVersionImage } from '../../builds/build-images';

parseEnvironment(operation);

/**
 * `POST /v1/algorithms/{algorithmId}/versions`: editors add an image, which becomes active with a
 * job definition of its own; the retired version's definition, if there was one, is deregistered.
 */
export const handler = apiHandler<{ image: string }>(operation, async ({ caller, pathParameters, body }) => {
  checkContainerImage(body.image, 'body.image');
  await checkVersionImage(body.image, 'body.image');
  const version = await activateVersion(
    () => getEditableAlgorithm(pathParameters.algorithmId, caller.userId),
    { id: randomUUID(), image: body.image, createdAt: new Date().toISOString() },
    caller.userId,
    { retired: retireVersionImage },
  );
  return { status: 201, body: versionView(version) };
});
