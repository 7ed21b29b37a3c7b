import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { RequestGuard, RequestListener } from '../services/request-guard';
import { batchRequiredAccess } from './batch-request-access';
import {
  codepipelineRequiredAccess,
  dynamodbRequiredAccess,
  logsRequiredAccess,
  operationOf,
  secretsManagerRequiredAccess,
  sqsRequiredAccess,
} from './json-request-access';
import type { KeyHolder, LocalCredentialStore } from './local-credentials';
import type { PolicyEvaluator } from './policy-evaluator';
import type { AccessContext, RequiredAccess } from './required-access';
import { deleteObjectsRequiredAccess, isDeleteObjects, s3RequiredAccess } from './s3-request-access';

/** Why a request is refused, and how its service says so. */
interface Refusal {
  readonly action?: string;
  readonly message: string;
  /** The refusal comes from the service's use of KMS for the caller. */
  readonly kms: boolean;
  /** The request names no key that local mode issued, or none at all. */
  readonly unknownKey?: 'missing' | 'unknown';
}

type JsonBody = Record<string, unknown>;

/**
 * Local IAM in front of each local service: reads who signed a request (the access key id of its
 * SigV4 Authorization header, or of a presigned URL's X-Amz-Credential), turns the request into
 * the authorizations AWS makes for it (`*-request-access.ts`), evaluates them, and refuses as the
 * service would: S3 with a 403 `AccessDenied` XML error, the JSON protocols with
 * `AccessDeniedException` (SQS's KMS refusals as `KMS.AccessDeniedException`). The operator's key
 * passes unchecked. Signatures are checked where S3 checks presigned URLs, not in headers.
 */
export class AccessGate {
  /** The latest refusals, oldest first: what a handler's generic error hides. */
  readonly refusals: { readonly accessKeyId: string; readonly action: string; readonly message: string }[] =
    [];

  constructor(
    private readonly credentials: LocalCredentialStore,
    private readonly evaluator: PolicyEvaluator,
    private readonly context: AccessContext,
  ) {}

  /** For the S3 server: decides from method, path, query and headers, before the body is read (but DeleteObjects's). */
  s3(): RequestGuard {
    return (listener) => (req, res) => {
      if (req.method === 'OPTIONS') return listener(req, res);
      const url = new URL(req.url ?? '/', 'http://s3');
      if (isDeleteObjects(req.method ?? 'GET', url)) {
        // The keys are in the body: read, decided on, and handed on unchanged.
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          const raw = Buffer.concat(chunks);
          const bucket = url.pathname.split('/')[1];
          this.decideS3(
            req,
            res,
            () => deleteObjectsRequiredAccess(bucket, raw.toString('utf8')),
            () => listener(replay(req, raw), res),
          );
        });
        return;
      }
      this.decideS3(
        req,
        res,
        () => s3RequiredAccess(this.context, { method: req.method ?? 'GET', url, headers: req.headers }),
        () => listener(req, res),
      );
    };
  }

  /** Passes an S3 request on when allowed; else answers as S3 refuses. */
  private decideS3(
    req: IncomingMessage,
    res: ServerResponse,
    required: () => RequiredAccess[],
    pass: () => void,
  ): void {
    this.refusal(accessKeyOf(req), required).then(
      (refusal) => {
        if (!refusal) return pass();
        req.resume();
        const code = refusal.unknownKey === 'unknown' ? 'InvalidAccessKeyId' : 'AccessDenied';
        const message = refusal.unknownKey
          ? refusal.unknownKey === 'unknown'
            ? 'The AWS Access Key Id you provided does not exist in our records.'
            : 'Access Denied'
          : refusal.message;
        res.writeHead(403, { 'content-type': 'application/xml', 'x-amz-request-id': requestId() });
        res.end(
          req.method === 'HEAD'
            ? undefined
            : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message><RequestId>${requestId()}</RequestId></Error>`,
        );
      },
      (err: Error) => internalError(res, err, 'xml'),
    );
  }

  dynamodb(): RequestGuard {
    return this.json((target, body) => dynamodbRequiredAccess(this.context, operationOf(target), body), {
      deny: (refusal) => [
        400,
        { 'x-amzn-errortype': 'AccessDeniedException' },
        { __type: 'com.amazon.coral.service#AccessDeniedException', message: refusal.message },
      ],
    });
  }

  sqs(): RequestGuard {
    return this.json((target, body) => sqsRequiredAccess(this.context, operationOf(target), body), {
      deny: (refusal) =>
        refusal.kms
          ? [
              400,
              { 'x-amzn-query-error': 'KMS.AccessDeniedException;Sender' },
              { __type: 'com.amazonaws.sqs#KmsAccessDenied', message: refusal.message },
            ]
          : [
              400,
              { 'x-amzn-query-error': 'AccessDenied;Sender' },
              { __type: 'com.amazon.coral.service#AccessDeniedException', message: refusal.message },
            ],
    });
  }

  /** `secretArn` finds a stored secret's ARN by its ARN or name. */
  secretsManager(secretArn: (id: string) => string | undefined): RequestGuard {
    return this.json(
      (target, body) => secretsManagerRequiredAccess(this.context, operationOf(target), body, secretArn),
      { deny: accessDeniedException },
    );
  }

  logs(): RequestGuard {
    return this.json((target, body) => logsRequiredAccess(this.context, operationOf(target), body), {
      deny: accessDeniedException,
    });
  }

  /** CodePipeline's and CodeBuild's operations, which one local endpoint answers. */
  codepipeline(): RequestGuard {
    return this.json((target, body) => codepipelineRequiredAccess(this.context, target, body), {
      deny: accessDeniedException,
    });
  }

  /** `latestRevision` names the revision that SubmitJob by name would run. */
  batch(latestRevision: (definitionName: string) => number | undefined): RequestGuard {
    return this.json(
      (_, body, req) => batchRequiredAccess(this.context, req.url ?? '', body, latestRevision),
      {
        deny: (refusal) => [
          403,
          { 'x-amzn-errortype': 'AccessDeniedException' },
          { __type: 'AccessDeniedException', message: refusal.message },
        ],
      },
    );
  }

  /** Whether `holder` may make every one of `required`; the first refusal otherwise. */
  async check(holder: KeyHolder, required: readonly RequiredAccess[]): Promise<Refusal | undefined> {
    if (holder.kind === 'operator') return undefined;
    for (const access of required) {
      const decision = await this.evaluator.decide(holder, access);
      if (!decision.allowed)
        return { action: access.action, message: decision.message, kms: access.kms === true };
    }
    return undefined;
  }

  private async refusal(
    accessKeyId: string | undefined,
    required: () => RequiredAccess[],
  ): Promise<Refusal | undefined> {
    if (accessKeyId === undefined)
      return { message: 'Missing Authentication Token', kms: false, unknownKey: 'missing' };
    const holder = this.credentials.holder(accessKeyId);
    if (!holder) {
      return {
        message: 'The security token included in the request is invalid.',
        kms: false,
        unknownKey: 'unknown',
      };
    }
    const refusal = await this.check(holder, holder.kind === 'operator' ? [] : required());
    if (refusal) {
      this.refusals.push({ accessKeyId, action: refusal.action ?? '', message: refusal.message });
      if (this.refusals.length > 200) this.refusals.shift();
    }
    return refusal;
  }

  /** A guard for a JSON protocol: the body is read, decided on, and handed on unchanged. */
  private json(
    required: (target: string, body: JsonBody, req: IncomingMessage) => RequiredAccess[],
    answer: { deny: (refusal: Refusal) => [number, Record<string, string>, unknown] },
  ): RequestGuard {
    return (listener: RequestListener) => (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        let body: JsonBody = {};
        try {
          body = raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as JsonBody) : {};
        } catch {
          // The service answers a body that is not JSON in its own way.
        }
        const target = String(req.headers['x-amz-target'] ?? '');
        this.refusal(accessKeyOf(req), () => required(target, body, req)).then(
          (refusal) => {
            if (!refusal) return listener(replay(req, raw), res);
            const [status, headers, payload] = refusal.unknownKey
              ? [
                  400,
                  {
                    'x-amzn-errortype':
                      refusal.unknownKey === 'missing'
                        ? 'MissingAuthenticationTokenException'
                        : 'UnrecognizedClientException',
                  },
                  {
                    __type:
                      refusal.unknownKey === 'missing'
                        ? 'com.amazon.coral.service#MissingAuthenticationTokenException'
                        : 'com.amazon.coral.service#UnrecognizedClientException',
                    message: refusal.message,
                  },
                ]
              : answer.deny(refusal);
            const text = JSON.stringify(payload);
            res.writeHead(status, {
              'content-type': 'application/x-amz-json-1.0',
              'x-amzn-requestid': requestId(),
              ...headers,
            });
            res.end(text);
          },
          (err: Error) => internalError(res, err, 'json'),
        );
      });
    };
  }
}

function accessDeniedException(refusal: Refusal): [number, Record<string, string>, unknown] {
  return [
    400,
    { 'x-amzn-errortype': 'AccessDeniedException' },
    { __type: 'AccessDeniedException', message: refusal.message },
  ];
}

/** The access key id that signed a request: its Authorization header, or a presigned URL's. */
export function accessKeyOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header === 'string') return /Credential=([^/,\s]+)\//.exec(header)?.[1];
  const credential = new URL(req.url ?? '/', 'http://local').searchParams.get('X-Amz-Credential');
  return credential ? credential.split('/', 1)[0] : undefined;
}

/** The request again, its body read: what the service's own listener reads. */
function replay(req: IncomingMessage, body: Buffer): IncomingMessage {
  return Object.assign(Readable.from(body.length > 0 ? [body] : []), {
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    method: req.method,
    url: req.url,
    httpVersion: req.httpVersion,
    socket: req.socket,
    connection: req.socket,
  }) as unknown as IncomingMessage;
}

/** Local IAM could not decide (a request it does not map): said in the service's protocol, never allowed. */
function internalError(res: ServerResponse, err: Error, protocol: 'xml' | 'json'): void {
  if (res.headersSent) return void res.destroy(err);
  const message = `local IAM failed: ${err.message}`;
  if (protocol === 'xml') {
    res.writeHead(500, { 'content-type': 'application/xml' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>${escapeXml(message)}</Message></Error>`,
    );
  } else {
    res.writeHead(500, {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-errortype': 'InternalFailure',
    });
    res.end(JSON.stringify({ __type: 'InternalFailure', message }));
  }
}

function requestId(): string {
  return randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
