import {
  itemSize,
  MAX_ITEM_BYTES,
  MAX_NESTING_LEVELS,
  nestingLevels,
} from '../contracts/dynamodb-item-limits';
import { badRequest } from './api-error';

/**
 * Checks, before anything is written, that what a request would store fits in one DynamoDB item,
 * so that a request whose item would be too large or too deep is answered 400 with the limit it
 * passes instead of failing at the write, half done. (A body past the API's own limit is a 413 before
 * any of this runs.)
 */

/**
 * Refuses `item` (what `what` names, "the job") unless it fits in one item with `reserve` bytes
 * left for the fields that later writes add to it.
 */
export function checkItemFits(item: object, what: string, reserve = 0): void {
  const size = itemSize(item);
  if (size + reserve <= MAX_ITEM_BYTES) return;
  const room = MAX_ITEM_BYTES - reserve;
  throw badRequest(
    `${what} would take ${size} bytes as stored; a DynamoDB item holds ${MAX_ITEM_BYTES} bytes` +
      (reserve > 0 ? `, of which ${reserve} are kept for what the platform adds later, leaving ${room}` : ''),
  );
}

/**
 * Refuses a value stored `levelsAbove` levels down in its item (inside a list of maps: 2) that
 * nests deeper than DynamoDB keeps; `where` names it in the request.
 */
export function checkNesting(value: unknown, where: string, levelsAbove: number): void {
  const allowed = MAX_NESTING_LEVELS - levelsAbove;
  if (nestingLevels(value, allowed + 1) <= allowed) return;
  throw badRequest(
    `${where} nests more than ${allowed} levels of arrays and objects; DynamoDB keeps ${MAX_NESTING_LEVELS} levels and ${levelsAbove} are taken where it is stored`,
  );
}
