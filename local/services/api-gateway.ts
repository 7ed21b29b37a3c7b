import * as http from 'node:http';
import { close, listen } from '../port-check';
import { RunningService } from './running-service';

/** API Gateway refuses bodies above 10 MB; so does the front door. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

export interface FrontDoorRequest {
  readonly method: string;
  /** The path as sent, still percent-encoded. */
  readonly rawPath: string;
  /** Values of the route template's `{name}` segments, decoded. */
  readonly pathParameters: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly sourceIp: string;
}

export interface FrontDoorResponse {
  readonly status: number;
  /** A string is sent as it is (already JSON); anything else is serialized. */
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface FrontDoorRoute {
  readonly method: string;
  /** Template such as `/v1/uploads/{uploadId}`. */
  readonly path: string;
  readonly handle: (request: FrontDoorRequest) => Promise<FrontDoorResponse>;
}

/**
 * The local API's HTTP entrance, in the place of API Gateway: routes by method and path
 * template, limits the body size, and answers in the API's error shape `{ error: { code, message } }`.
 */
export async function startFrontDoor(options: {
  host: string;
  port: number;
  routes: FrontDoorRoute[];
}): Promise<RunningService> {
  const server = http.createServer((req, res) => {
    handle(options.routes, req).then(
      (response) => send(res, response),
      (err: Error) => send(res, { status: 500, body: apiError('InternalError', err.message) }),
    );
  });
  await listen(server, options.host, options.port);
  return { env: {}, stop: () => close(server) };
}

async function handle(routes: FrontDoorRoute[], req: http.IncomingMessage): Promise<FrontDoorResponse> {
  const url = new URL(req.url ?? '/', 'http://front-door');
  const rawPath = url.pathname;
  const matches = routes
    .map((route) => ({ route, params: matchTemplate(route.path, rawPath) }))
    .filter((m) => m.params !== undefined);
  const match = matches.find((m) => m.route.method === req.method);
  if (!match || match.params === undefined) {
    req.resume();
    return matches.length > 0
      ? { status: 405, body: apiError('MethodNotAllowed', `${req.method} is not allowed on ${rawPath}`) }
      : { status: 404, body: apiError('NotFound', `no route for ${req.method} ${rawPath}`) };
  }
  if (match.params === null) {
    req.resume();
    return { status: 400, body: apiError('BadRequest', 'a path segment is not valid percent-encoding') };
  }

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) {
      return {
        status: 413,
        body: apiError('PayloadTooLarge', `the body exceeds ${MAX_REQUEST_BYTES} bytes`),
      };
    }
    chunks.push(chunk);
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return match.route.handle({
    method: req.method ?? 'GET',
    rawPath,
    pathParameters: match.params as Record<string, string>,
    query: Object.fromEntries(url.searchParams),
    headers,
    body: Buffer.concat(chunks),
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
  });
}

/** Parameters if `path` fits `template`, null if it fits but a segment cannot be decoded, undefined otherwise. */
function matchTemplate(template: string, path: string): Record<string, string> | null | undefined {
  const expected = template.split('/');
  const actual = path.split('/');
  if (expected.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  let undecodable = false;
  for (let i = 0; i < expected.length; i++) {
    const name = expected[i].match(/^\{(\w+)\}$/)?.[1];
    if (!name) {
      if (expected[i] !== actual[i]) return undefined;
      continue;
    }
    if (actual[i] === '') return undefined;
    try {
      params[name] = decodeURIComponent(actual[i]);
    } catch {
      undecodable = true;
    }
  }
  return undecodable ? null : params;
}

function send(res: http.ServerResponse, response: FrontDoorResponse): void {
  const text = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
  res.writeHead(response.status, {
    'content-type': 'application/json',
    ...response.headers,
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function apiError(code: string, message: string) {
  return { error: { code, message } };
}
