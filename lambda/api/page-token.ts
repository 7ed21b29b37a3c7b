import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { PAGE_TOKENS } from '../contracts/page-tokens';
import { badRequest } from './api-error';

/** How long a page token is honoured after it was issued. */
export const PAGE_TOKEN_SECONDS = 24 * 3600;

/** Longer tokens are refused unread: the routes declare tokens of at most 2,000 characters. */
const MAX_TOKEN_CHARS = 2000;

/** Characters of the MAC at a token's end: HMAC-SHA256 in unpadded base64url. */
const MAC_CHARS = 43;

/** The shortest key accepted: 256 bits as the secret holds them. */
const MIN_KEY_BYTES = 32;

/**
 * Page tokens (`nextToken`): where a listing stopped (DynamoDB's LastEvaluatedKey, or the part of
 * it the listing does not already fix) and until when, in base64url, followed by an HMAC-SHA256 of
 * it and of the listing (whose, with which query) under a key only list operations read. A token
 * that was altered, made by hand, issued for another caller or query, or has expired is answered
 * 400, so nothing reaches DynamoDB that the platform did not issue for that query. The position is
 * signed, not hidden: it holds only keys of items the caller was shown. Tokens use only the
 * characters the routes declare for them (`[A-Za-z0-9_-]`).
 */
export class PageTokens {
  private key?: Promise<Buffer>;

  constructor(
    private readonly loadKey: () => Promise<Buffer>,
    private readonly now: () => number = Date.now,
  ) {}

  /** A token for `listing` (the caller and the query, as one string) that resumes at `position`. */
  async issue(listing: string, position: Readonly<Record<string, unknown>>): Promise<string> {
    const expires = Math.floor(this.now() / 1000) + PAGE_TOKEN_SECONDS;
    const payload = Buffer.from(JSON.stringify({ p: position, e: expires })).toString('base64url');
    return `${payload}${await this.mac(listing, payload)}`;
  }

  /** The position that `token` resumes `listing` at; a 400 that says why when it cannot. */
  async open(listing: string, token: string): Promise<Record<string, unknown>> {
    const invalid = badRequest('nextToken is not valid');
    if (token.length <= MAC_CHARS || token.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9_-]+$/.test(token)) {
      throw invalid;
    }
    const payload = token.slice(0, -MAC_CHARS);
    const expected = Buffer.from(await this.mac(listing, payload));
    const given = Buffer.from(token.slice(-MAC_CHARS));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid;
    // Signed by the platform for this listing: its content is what `issue` wrote.
    const content = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      p: Record<string, unknown>;
      e: number;
    };
    if (content.e * 1000 <= this.now()) {
      throw badRequest(
        `nextToken has expired (page tokens last ${PAGE_TOKEN_SECONDS / 3600} hours): list again from the first page`,
      );
    }
    return content.p;
  }

  private async mac(listing: string, payload: string): Promise<string> {
    // Loaded once per container; a failed load is tried again on the next call.
    this.key ??= this.loadKey().catch((err: unknown) => {
      this.key = undefined;
      throw err;
    });
    return createHmac('sha256', await this.key)
      .update(JSON.stringify(['page-token', listing, payload]))
      .digest('base64url');
  }
}

/** Reads the key from the secret the data stack generated. */
export function pageTokenKeyFromSecret(
  secretsManager: SecretsManagerClient,
  secretId: string,
): () => Promise<Buffer> {
  return async () => {
    const secret = await secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }));
    const key = Buffer.from(secret.SecretString ?? '', 'utf8');
    if (key.length < MIN_KEY_BYTES) throw new Error(`secret ${secretId} holds no page token key`);
    return key;
  };
}

let fromEnvironment: PageTokens | undefined;

/** The page tokens of a list operation, keyed by its `PAGE_TOKENS` setting; one per container. */
export function pageTokens(): PageTokens {
  fromEnvironment ??= new PageTokens(
    pageTokenKeyFromSecret(new SecretsManagerClient({}), PAGE_TOKENS.read().pageTokenSecretArn),
  );
  return fromEnvironment;
}
