import { apiHandler } from '../../api/api-handler';
import { checkItemFits } from '../../api/item-limits';
import { parseEnvironment } from '../../contracts/handler-environment';
import { operation } from './operation';
import { ALGORITHM_ITEM_RESERVE_BYTES, algorithmView, roleOf } from '../algorithm-record';
import { getEditableAlgorithm, syncMemberships, updateAlgorithm } from '../algorithm-store';

parseEnvironment(operation);

/** `PUT /v1/algorithms/{algorithmId}/users`: editors replace the lists of editors and users. */
export const handler = apiHandler<{ editors: string[]; users: string[] }>(
  operation,
  async ({ caller, pathParameters, body }) => {
    const before = await getEditableAlgorithm(pathParameters.algorithmId, caller.userId);
    // An editor is a user too; listing someone in both keeps them an editor.
    const users = body.users.filter((u) => !body.editors.includes(u));
    checkItemFits(
      { ...before, editors: body.editors, users },
      'the algorithm with these members',
      ALGORITHM_ITEM_RESERVE_BYTES,
    );
    const after = await updateAlgorithm(before, { editors: body.editors, users });
    await syncMemberships(before, after);
    // Editors who removed themselves still see the lists they just wrote.
    return { status: 200, body: algorithmView(after, roleOf(after, caller.userId) ?? 'editor') };
  },
);
