import { apiHandler } from '../../api/api-handler';
import { algorithmView } from '../algorithm-record';
import { getVisibleAlgorithm } from '../algorithm-store';

/** `GET /v1/algorithms/{algorithmId}`. */
export const handler = apiHandler('getAlgorithm', async ({ caller, pathParameters }) => {
  const { algorithm, role } = await getVisibleAlgorithm(pathParameters.algorithmId, caller.userId);
  return { status: 200, body: algorithmView(algorithm, role) };
});
