import * as http from 'node:http';
import * as path from 'node:path';
import S3rver from 's3rver';
import { DUMMY_ACCOUNT } from 's3rver/lib/models/account';
import { close, listen } from '../port-check';
import { RequestGuard } from './request-guard';
import { RunningService } from './running-service';
import { checkPresignedRequest } from './s3-presigned-url-check';
import { refuseBeyondS3Limits } from './service-limits';
import { handleMultipart } from './s3rver-multipart';
import { checkSizeLimits, S3Refusal } from './s3-size-limits';

/** s3rver accepts only these credentials. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface EmbeddedS3Options {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly bucketName: string;
  /** Origins allowed to upload from a browser, as on the deployed bucket. */
  readonly webOrigins: string[];
  /**
   * Checks each signed request before S3 acts on it (local IAM), and the secret of each access key
   * that local mode issued, with which presigned URLs are verified.
   * @default - only S3RVER's own key, and no check
   */
  readonly access?: {
    readonly guard: RequestGuard;
    readonly secretOf: (accessKeyId: string) => string | undefined;
  };
}

/** Lets s3rver, which knows only its own key, take requests signed with `credentials` (local IAM checks them). */
export function acceptAccessKey(credentials: { accessKeyId: string; secretAccessKey: string }): void {
  DUMMY_ACCOUNT.createKeyPair(credentials.accessKeyId, credentials.secretAccessKey);
}

/** CORS of the deployed imaging bucket, so browser uploads behave the same in local mode. */
function corsConfiguration(origins: string[]): string {
  const allowed = origins.map((origin) => `<AllowedOrigin>${origin}</AllowedOrigin>`).join('');
  return `<CORSConfiguration><CORSRule>${allowed}<AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3600</MaxAgeSeconds></CORSRule></CORSConfiguration>`;
}

/** The S3-compatible server of local mode, objects kept under `<dataDir>/s3`. */
export async function startEmbeddedS3(options: EmbeddedS3Options): Promise<RunningService> {
  const s3rver = new S3rver({
    directory: path.join(options.dataDir, 's3'),
    silent: true,
    configureBuckets: [{ name: options.bucketName, configs: [corsConfiguration(options.webOrigins)] }],
  });
  await s3rver.configureBuckets();
  const serveS3 = s3rver.callback();
  const serve = (req: http.IncomingMessage, res: http.ServerResponse) => {
    void checkSizeLimits(s3rver.store, req).then(
      (refusal) => {
        if (refusal) return refuse(res, refusal);
        // A request that expects 100-continue sends its body only now, after the checks.
        if (/100-continue/i.test(req.headers.expect ?? '')) res.writeContinue();
        if (!handleMultipart(s3rver.store, req, res)) serveS3(req, res);
      },
      (err: Error) => refuse(res, { status: 500, code: 'InternalError', message: err.message }),
    );
  };
  const authorized = options.access ? options.access.guard(serve) : serve;
  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (refuseBeyondS3Limits(req, res)) return;
    // s3rver maps keys onto folders under the data folder: a dot segment would leave its bucket.
    if (hasDotSegment(req.url ?? '/')) {
      req.resume();
      res.writeHead(400, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidURI</Code><Message>Keys with . or .. segments are refused locally.</Message></Error>',
      );
      return;
    }
    const presigned = checkPresignedRequest(req, options.access?.secretOf ?? S3RVER_CREDENTIALS);
    if (presigned && !presigned.ok) {
      req.resume();
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${presigned.code}</Code><Message>${presigned.message}</Message></Error>`,
      );
      return;
    }
    authorized(req, res);
  };
  const server = http.createServer(handle);
  server.on('checkContinue', handle);
  await listen(server, options.host, options.port);
  return {
    env: { AWS_ENDPOINT_URL_S3: `http://${options.host}:${options.port}` },
    stop: () => close(server),
  };
}

/** S3's error document; the connection closes after it, so a body that was not read is never read. */
function refuse(res: http.ServerResponse, refusal: S3Refusal): void {
  const details = Object.entries(refusal.details ?? {})
    .map(([name, value]) => `<${name}>${value}</${name}>`)
    .join('');
  res.writeHead(refusal.status, { 'content-type': 'application/xml', connection: 'close' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${refusal.code}</Code><Message>${refusal.message}</Message>${details}</Error>`,
  );
}

function hasDotSegment(url: string): boolean {
  const path = url.split('?', 1)[0];
  try {
    return path.split('/').some((segment) => {
      const decoded = decodeURIComponent(segment);
      return (
        decoded === '.' ||
        decoded === '..' ||
        decoded.includes('/..') ||
        decoded.includes('../') ||
        decoded.includes('\\')
      );
    });
  } catch {
    return true;
  }
}
