import { apiHandler } from '../../api/api-handler';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { getModel, modelView } from '../algorithm-models';
import { getEditableAlgorithm } from '../algorithm-store';

parseEnvironment(operation);

/** `GET /v1/algorithms/{algorithmId}/models/{modelId}`: models are their editors' alone. */
export const handler = apiHandler(operation, async ({ caller, pathParameters }) => {
  const algorithm = await getEditableAlgorithm(pathParameters.algorithmId, caller.userId);
  const model = await getModel(algorithm.id, pathParameters.modelId);
  return { status: 200, body: modelView(model, algorithm.activeModel?.id) };
});
