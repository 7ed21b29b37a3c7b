import { randomUUID } from 'node:crypto';
import { apiHandler } from '../shared/api/api-handler';
import { getEditableAlgorithm, putVersion, updateAlgorithm } from '../shared/algorithms/algorithm-store';
import { checkContainerImage } from '../shared/algorithms/container-image';
import { checkLocalImage } from '../shared/algorithms/image-checks';

/** `POST /v1/algorithms/{algorithmId}/versions`: editors add an image, which becomes active. */
export const handler = apiHandler<{ image: string }>(
  'createAlgorithmVersion',
  async ({ caller, pathParameters, body }) => {
    checkContainerImage(body.image, 'body.image');
    await checkLocalImage(body.image, 'body.image');
    const algorithm = await getEditableAlgorithm(pathParameters.algorithmId, caller.userId);
    const version = { id: randomUUID(), image: body.image, createdAt: new Date().toISOString() };
    await putVersion(algorithm.id, version, caller.userId);
    await updateAlgorithm(algorithm, { activeVersion: version });
    return { status: 201, body: version };
  },
);
