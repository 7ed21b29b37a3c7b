import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import {
  MAX_NESTING_LEVELS,
  WireAttributeValue,
  wireItemSize,
  wireNestingLevels,
} from '../../lambda/contracts/dynamodb-item-limits';

/**
 * The service limits of S3 and DynamoDB that the embedded servers do not enforce, so that local
 * mode refuses what AWS refuses, with AWS's error: keys over 1,024 bytes (S3), items over 400 KB
 * measured in UTF-8 and values nested deeper than 32 levels (DynamoDB).
 */

/** S3 object keys: 1,024 bytes of UTF-8. */
export const MAX_S3_KEY_BYTES = 1024;

/**
 * s3rver keeps each key segment as a file name with a suffix of up to 22 characters
 * (`._S3rver_metadata.json`), and file names hold 255 bytes: a longer segment would fail half
 * stored. S3 itself has no such limit; local mode refuses these keys instead of breaking.
 */
export const MAX_LOCAL_KEY_SEGMENT_BYTES = 255 - '._S3rver_metadata.json'.length;

/** An S3 error answer, or undefined when the request's key is within the limits. */
export function s3KeyLimitError(req: IncomingMessage): { code: string; message: string } | undefined {
  const [, , ...keyPath] = (req.url ?? '/').split('?', 1)[0].split('/');
  let key: string;
  try {
    key = keyPath.map(decodeURIComponent).join('/');
  } catch {
    return undefined;
  }
  if (Buffer.byteLength(key, 'utf8') > MAX_S3_KEY_BYTES) {
    return { code: 'KeyTooLongError', message: 'Your key is too long' };
  }
  if (key.split('/').some((segment) => Buffer.byteLength(segment, 'utf8') > MAX_LOCAL_KEY_SEGMENT_BYTES)) {
    return {
      code: 'KeyTooLongError',
      message: `Local mode stores each segment of a key as a file name, of at most ${MAX_LOCAL_KEY_SEGMENT_BYTES} bytes; S3 takes longer segments.`,
    };
  }
  return undefined;
}

/** Answers a request whose key is beyond the limits, and returns true; false leaves it to the caller. */
export function refuseBeyondS3Limits(req: IncomingMessage, res: ServerResponse): boolean {
  const error = s3KeyLimitError(req);
  if (!error) return false;
  req.resume();
  res.writeHead(400, { 'content-type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${error.code}</Code><Message>${error.message}</Message></Error>`,
  );
  return true;
}

const NESTING_MESSAGE =
  'Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit';

/**
 * DynamoDB's answer to a request that writes an item nested too deep, or undefined. Items of
 * PutItem and BatchWriteItem, and the values an UpdateItem assigns, are checked; a value set at a
 * nested path (`SET a.b = :v`) is checked as if it were set at the top.
 */
export function dynamoDbNestingError(target: string, body: unknown): string | undefined {
  const request = (body ?? {}) as {
    Item?: Record<string, WireAttributeValue>;
    ExpressionAttributeValues?: Record<string, WireAttributeValue>;
    RequestItems?: Record<string, { PutRequest?: { Item?: Record<string, WireAttributeValue> } }[]>;
  };
  const values: WireAttributeValue[] = [];
  const operation = target.split('.')[1];
  if (operation === 'PutItem') values.push(...Object.values(request.Item ?? {}));
  if (operation === 'UpdateItem') values.push(...Object.values(request.ExpressionAttributeValues ?? {}));
  if (operation === 'BatchWriteItem') {
    for (const writes of Object.values(request.RequestItems ?? {})) {
      for (const write of writes) values.push(...Object.values(write.PutRequest?.Item ?? {}));
    }
  }
  return values.some((value) => wireNestingLevels(value) > MAX_NESTING_LEVELS) ? NESTING_MESSAGE : undefined;
}

/**
 * Holds the embedded DynamoDB (dynalite) to DynamoDB's limits: it measures items as DynamoDB does
 * (dynalite counts string characters, not UTF-8 bytes, so a 401 KB item of accented text passed),
 * and refuses values nested deeper than 32 levels, which dynalite accepts.
 */
export function enforceDynamoDbLimits(server: Server): void {
  // dynalite checks items against its own measure, looked up on its db module at each call.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const db = require('dynalite/db') as { itemSize: (item: unknown, ...rest: unknown[]) => number };
  const dynaliteSize = db.itemSize;
  if (!(dynaliteSize as { measuresUtf8?: boolean }).measuresUtf8) {
    db.itemSize = Object.assign(
      (item: unknown, ...rest: unknown[]) =>
        // With more arguments it measures compressed sizes for Query and Scan pages: dynalite's own.
        rest.length === 0
          ? wireItemSize(item as Record<string, WireAttributeValue>)
          : dynaliteSize(item, ...rest),
      { measuresUtf8: true },
    );
  }

  const [serve] = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let message: string | undefined;
      try {
        message = dynamoDbNestingError(
          String(req.headers['x-amz-target'] ?? ''),
          JSON.parse(body.toString()),
        );
      } catch {
        // Not JSON: dynalite answers that itself.
      }
      if (message) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'com.amazon.coral.validate#ValidationException', message }));
        return;
      }
      // dynalite reads the request as a stream: it gets the same bytes once more.
      const replay = Object.assign(new PassThrough(), {
        headers: req.headers,
        method: req.method,
        url: req.url,
      });
      serve(replay as unknown as IncomingMessage, res);
      replay.end(body);
    });
  });
}
