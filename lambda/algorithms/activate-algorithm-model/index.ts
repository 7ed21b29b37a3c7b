import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { getModel, modelRef } from '../algorithm-models';
import { algorithmView } from '../algorithm-record';
import { getEditableAlgorithm, updateAlgorithm } from '../algorithm-store';

parseEnvironment(operation);

/**
 * `POST /v1/algorithms/{algorithmId}/models/{modelId}/activate`: jobs submitted from now on run
 * with this model; jobs already submitted keep the one their manifest names.
 */
export const handler = apiHandler(operation, async ({ caller, pathParameters }) => {
  const algorithm = await getEditableAlgorithm(pathParameters.algorithmId, caller.userId);
  const model = await getModel(algorithm.id, pathParameters.modelId);
  const updated = await updateAlgorithm(algorithm, { activeModel: modelRef(model) });
  return { status: 200, body: algorithmView(updated, 'editor') };
});
