import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * S3's check of a presigned (query-string SigV4) request, which s3rver skips: the signature must
 * cover this method, path, query and the signed headers (so a part URL signed for part 2 and
 * 33554432 bytes uploads nothing else), and the URL must not have expired.
 */
export type PresignVerdict =
  { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string };

export function checkPresignedRequest(
  req: IncomingMessage,
  /** The one key accepted, or the secret of each key accepted. */
  credentials:
    { accessKeyId: string; secretAccessKey: string } | ((accessKeyId: string) => string | undefined),
  now = Date.now(),
): PresignVerdict | undefined {
  const [rawPath, rawQuery = ''] = (req.url ?? '/').split('?', 2);
  const params = rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, '%20'));
      return eq === -1 ? [decode(pair), ''] : [decode(pair.slice(0, eq)), decode(pair.slice(eq + 1))];
    });
  const get = (name: string) => params.find(([key]) => key === name)?.[1];
  const signature = get('X-Amz-Signature');
  if (signature === undefined) return undefined;

  const credential = get('X-Amz-Credential') ?? '';
  const [accessKeyId, date, region, service, terminator] = credential.split('/');
  const amzDate = get('X-Amz-Date') ?? '';
  const expires = Number(get('X-Amz-Expires'));
  const signedHeaders = (get('X-Amz-SignedHeaders') ?? '').split(';').filter(Boolean);
  if (
    get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' ||
    terminator !== 'aws4_request' ||
    !signedHeaders.includes('host')
  ) {
    return {
      ok: false,
      code: 'AuthorizationQueryParametersError',
      message: 'The presigned URL is malformed.',
    };
  }
  const secretAccessKey =
    typeof credentials === 'function'
      ? credentials(accessKeyId)
      : accessKeyId === credentials.accessKeyId
        ? credentials.secretAccessKey
        : undefined;
  if (secretAccessKey === undefined) {
    return {
      ok: false,
      code: 'InvalidAccessKeyId',
      message: 'The access key does not exist in our records.',
    };
  }
  const signedAt = Date.parse(
    amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
  );
  if (!Number.isFinite(signedAt) || !Number.isInteger(expires) || expires < 1 || expires > 604800) {
    return {
      ok: false,
      code: 'AuthorizationQueryParametersError',
      message: 'X-Amz-Date or X-Amz-Expires is invalid.',
    };
  }
  if (now > signedAt + expires * 1000)
    return { ok: false, code: 'AccessDenied', message: 'Request has expired' };

  const canonicalQuery = params
    .filter(([key]) => key !== 'X-Amz-Signature')
    .map(([key, value]) => [rfc3986(key), rfc3986(value)])
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const canonicalHeaders = signedHeaders
    .map(
      (name) =>
        `${name}:${String(req.headers[name] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const canonicalRequest = [
    req.method,
    rawPath,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders.join(';'),
    get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD',
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${secretAccessKey}`, date);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  if (expected !== signature) {
    return {
      ok: false,
      code: 'SignatureDoesNotMatch',
      message: 'The request signature we calculated does not match the signature you provided.',
    };
  }
  return { ok: true };
}

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
