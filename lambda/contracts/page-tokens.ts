import { settingsGroup, text } from './settings';

/**
 * The secret whose value keys the HMAC of page tokens (`nextToken`): list operations sign the
 * position they stopped at with it and check what callers send back.
 */
export const PAGE_TOKENS = settingsGroup('the page token key', { pageTokenSecretArn: text });
