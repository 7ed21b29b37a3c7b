import { GetObjectCommand, NoSuchKey, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { KeyObject } from 'node:crypto';
import * as http from 'node:http';
import { Readable } from 'node:stream';
import { verifySignedRequest } from './cloudfront-signature';
import { close, listen } from '../port-check';
import { RunningService } from './running-service';

export interface CloudFrontStandInOptions {
  readonly host: string;
  readonly port: number;
  /** Origin that signed URLs name, e.g. `http://127.0.0.1:4571`. */
  readonly baseUrl: string;
  /** The trusted key group: public keys by key pair id. */
  readonly trustedKeys: ReadonlyMap<string, KeyObject>;
  /** Client of the embedded S3, standing in for Origin Access Control. */
  readonly s3: S3Client;
  readonly bucketName: string;
}

const PASSED_HEADERS = [
  'content-type',
  'content-length',
  'content-range',
  'etag',
  'last-modified',
  'cache-control',
];

/**
 * The distribution of local mode: serves an object of the imaging bucket only to a request whose
 * signed URL or signed cookies verify against the trusted keys, and answers 403 otherwise,
 * including for objects that do not exist (as CloudFront with OAC does when S3 may not list).
 */
export async function startCloudFrontStandIn(options: CloudFrontStandInOptions): Promise<RunningService> {
  const server = http.createServer((req, res) => {
    serve(options, req, res).catch((err: Error) => {
      if (!res.headersSent) respondError(res, 502, 'OriginError', err.message);
      else res.destroy(err);
    });
  });
  await listen(server, options.host, options.port);
  // No AWS SDK client calls it: handlers sign URLs that name it (`imagesBaseUrl`).
  return { env: {}, stop: () => close(server) };
}

async function serve(options: CloudFrontStandInOptions, req: http.IncomingMessage, res: http.ServerResponse) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return respondError(res, 403, 'MethodNotAllowed', 'This distribution allows only GET and HEAD');
  }
  const requestUrl = `${options.baseUrl}${req.url ?? '/'}`;
  const verdict = verifySignedRequest(
    {
      url: requestUrl,
      cookieHeader: req.headers.cookie,
      sourceIp: req.socket.remoteAddress ?? '',
      now: Math.floor(Date.now() / 1000),
    },
    options.trustedKeys,
  );
  if (!verdict.allowed) return respondError(res, 403, 'AccessDenied', verdict.reason);

  let key: string;
  try {
    key = new URL(requestUrl).pathname
      .slice(1)
      .split('/')
      .map((segment) => decodeURIComponent(segment))
      .join('/');
  } catch {
    return respondError(res, 400, 'InvalidURI', 'The path is not valid percent-encoding');
  }
  // S3 keys are literal, but s3rver maps them onto folders: a dot segment must never reach it.
  if (key.split('/').some((segment) => segment === '..' || segment === '.')) {
    return respondError(res, 403, 'AccessDenied', 'Access Denied');
  }
  try {
    const object = await options.s3.send(
      new GetObjectCommand({ Bucket: options.bucketName, Key: key, Range: req.headers.range }),
    );
    const headers: Record<string, string> = {
      'accept-ranges': 'bytes',
      'x-cache': 'Miss from cloudfront-stand-in',
    };
    const fromS3: Record<string, unknown> = {
      'content-type': object.ContentType,
      'content-length': object.ContentLength,
      'content-range': object.ContentRange,
      etag: object.ETag,
      'last-modified': object.LastModified?.toUTCString(),
      'cache-control': object.CacheControl,
    };
    for (const name of PASSED_HEADERS) {
      if (fromS3[name] !== undefined) headers[name] = String(fromS3[name]);
    }
    res.writeHead(object.ContentRange ? 206 : 200, headers);
    if (req.method === 'HEAD') {
      (object.Body as Readable | undefined)?.destroy();
      res.end();
      return;
    }
    (object.Body as Readable).pipe(res);
  } catch (err) {
    if (err instanceof NoSuchKey || (err instanceof S3ServiceException && err.name === 'NoSuchKey')) {
      return respondError(res, 403, 'AccessDenied', 'Access Denied');
    }
    throw err;
  }
}

function respondError(res: http.ServerResponse, status: number, code: string, message: string) {
  const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
