import type { ApiParameter } from './handler-deployment';

/**
 * The query parameters of an operation that answers a page at a time: how many items (`limit`)
 * and where the previous page ended (`nextToken`, opaque: base64url as the last answer gave it).
 */
export function pageParameters(page: {
  readonly defaultLimit: number;
  readonly maxLimit: number;
  readonly maxTokenLength: number;
}): readonly ApiParameter[] {
  return [
    {
      name: 'limit',
      in: 'query',
      description: `Items on a page, ${page.defaultLimit} unless given`,
      schema: { type: 'integer', minimum: 1, maximum: page.maxLimit, default: page.defaultLimit },
    },
    {
      name: 'nextToken',
      in: 'query',
      description: 'The nextToken of the previous page, to read the page after it',
      schema: { type: 'string', pattern: `^[A-Za-z0-9_-]{1,${page.maxTokenLength}}$` },
    },
  ];
}
