import { ApiError } from '../../lambda/api/api-error';
import { PAGE_TOKEN_SECONDS, PageTokens } from '../../lambda/api/page-token';

const key = async () => Buffer.alloc(32, 7);
const position = { owner: 'a11ce000-0000-4000-8000-000000000001', id: 'job-1', createdAt: '2026-01-01' };

async function refusal(opening: Promise<unknown>): Promise<[number, string]> {
  const err = await opening.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return [(err as ApiError).status, (err as ApiError).message];
}

describe('page tokens', () => {
  test('a token opens to its position for its own listing, and is made of base64url characters', async () => {
    const tokens = new PageTokens(key);
    const token = await tokens.issue('jobs/alice', position);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(await tokens.open('jobs/alice', token)).toEqual(position);
  });

  test('another listing, another key, or any changed character is refused as not valid', async () => {
    const tokens = new PageTokens(key);
    const token = await tokens.issue('jobs/alice', position);
    const notValid: [number, string] = [400, 'nextToken is not valid'];
    expect(await refusal(tokens.open('jobs/bob', token))).toEqual(notValid);
    expect(await refusal(new PageTokens(async () => Buffer.alloc(32, 8)).open('jobs/alice', token))).toEqual(
      notValid,
    );
    for (let i = 0; i < token.length; i += 7) {
      const changed = `${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`;
      expect(await refusal(tokens.open('jobs/alice', changed))).toEqual(notValid);
    }
    for (const bad of ['', 'a.b', 'x'.repeat(2001), token.slice(-43)]) {
      expect(await refusal(tokens.open('jobs/alice', bad))).toEqual(notValid);
    }
  });

  test('a token is refused once expired, saying so', async () => {
    let now = Date.now();
    const tokens = new PageTokens(key, () => now);
    const token = await tokens.issue('jobs/alice', position);
    now += PAGE_TOKEN_SECONDS * 1000 - 1000;
    expect(await tokens.open('jobs/alice', token)).toEqual(position);
    now += 1000;
    expect(await refusal(tokens.open('jobs/alice', token))).toEqual([
      400,
      'nextToken has expired (page tokens last 24 hours): list again from the first page',
    ]);
  });

  test('the key is read once; a failed read is tried again', async () => {
    let reads = 0;
    const tokens = new PageTokens(async () => {
      reads++;
      if (reads === 1) throw new Error('Secrets Manager is unavailable');
      return Buffer.alloc(32, 7);
    });
    await expect(tokens.issue('jobs/alice', position)).rejects.toThrow('Secrets Manager is unavailable');
    const token = await tokens.issue('jobs/alice', position);
    await tokens.open('jobs/alice', token);
    expect(reads).toBe(2);
  });
});
