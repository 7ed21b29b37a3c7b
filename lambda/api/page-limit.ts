import type { ApiOperation } from '../contracts/handler-deployment';
import { badRequest } from './api-error';

/**
 * The page size a list operation answers with: its `limit` query value, checked against the
 * default and maximum its deployment declares (`pageParameters`), so those are written once.
 */
export function pageLimit(operation: ApiOperation, value: string | undefined): number {
  const declared = operation.parameters?.find((p) => p.in === 'query' && p.name === 'limit')?.schema as
    { default: number; maximum: number } | undefined;
  if (!declared) throw new Error(`${operation.operationId} declares no limit parameter`);
  if (value === undefined) return declared.default;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > declared.maximum) {
    throw badRequest(`limit must be a whole number from 1 to ${declared.maximum}`);
  }
  return limit;
}
