import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { close, listen } from '../port-check';
import { ApiResources, eventPath } from './api-resources';
import { preflightHeaders } from './cors-preflight';
import { GatewayError, gatewayErrors, renderGatewayResponse } from './gateway-responses';
import { RunningService } from './running-service';

/** API Gateway refuses bodies above 10 MB; so does the front door. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
/**
 * Of a body over the limit, what the front door still reads (and drops) before it answers, so
 * the client reads the 413 and its connection carries the next request. Past this the front
 * door answers at once and closes the connection.
 */
const MAX_DRAINED_BYTES = 64 * 1024 * 1024;
/** API Gateway's integration timeout: it answers 504 when the integration has not answered by then. */
const INTEGRATION_TIMEOUT_SECONDS = 29;

export interface FrontDoorRequest {
  readonly method: string;
  /** The path as sent, still percent-encoded. */
  readonly rawPath: string;
  /** The path as API Gateway hands it on: leading slashes collapsed, still percent-encoded. */
  readonly path: string;
  /** The route template that matched: `/v1/uploads/{uploadId}`. */
  readonly resource: string;
  /** Values of the template's `{name}` segments, still percent-encoded, as API Gateway gives them. */
  readonly pathParameters: Readonly<Record<string, string>>;
  /** The last value of each query parameter. */
  readonly query: Readonly<Record<string, string>>;
  readonly multiValueQuery: Readonly<Record<string, readonly string[]>>;
  /** Names as sent; the last value of each. */
  readonly headers: Readonly<Record<string, string>>;
  readonly multiValueHeaders: Readonly<Record<string, readonly string[]>>;
  readonly body: Buffer;
  readonly sourceIp: string;
}

export interface FrontDoorResponse {
  readonly status: number;
  /** A string or bytes are sent as they are; anything else is serialized as JSON. */
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface FrontDoorRoute {
  readonly method: string;
  /** Template such as `/v1/uploads/{uploadId}`. */
  readonly path: string;
  /** Answers, or throws a `GatewayError` for an answer of API Gateway's own. */
  readonly handle: (request: FrontDoorRequest) => Promise<FrontDoorResponse>;
}

export interface FrontDoorOptions {
  readonly host: string;
  readonly port: number;
  readonly routes: readonly FrontDoorRoute[];
  /** Browser origins of the CORS preflights and of API Gateway's own answers; none for no CORS. */
  readonly webOrigins: readonly string[];
  /** Request headers that CORS preflights allow. */
  readonly corsAllowHeaders: readonly string[];
  /** @default 29, API Gateway's */
  readonly integrationTimeoutSeconds?: number;
}

/**
 * The local API's HTTP entrance, in the place of API Gateway's REST API: matches resources and
 * methods as API Gateway does, answers CORS preflights as the deployed mock integration does,
 * limits bodies to 10 MB and routes to 29 s, and gives API Gateway's own errors (no route,
 * 413, 504, and what routes throw) as the deployed gateway responses render them. Requests that
 * Node cannot parse are answered in the API's error shape too.
 */
export async function startFrontDoor(options: FrontDoorOptions): Promise<RunningService> {
  const resources = new ApiResources(options.routes);
  const timeoutMs = (options.integrationTimeoutSeconds ?? INTEGRATION_TIMEOUT_SECONDS) * 1000;
  const server = http.createServer((req, res) => {
    handle(req).then(
      (response) => send(res, response),
      (err: Error) => {
        if (!(err instanceof GatewayError))
          console.error(`the front door failed: ${err.stack ?? err.message}`);
        const gatewayError =
          err instanceof GatewayError ? err : new GatewayError('DEFAULT_5XX', 'Internal server error', 500);
        send(res, gatewayResponse(gatewayError, req));
      },
    );
  });

  // Idle connections outlive the clients' own keep-alive (4 s in Node's fetch), so the client
  // always closes first: a server closing one as a client reuses it resets that request, and a
  // loop busy with conversions fires the close timer late, right into the next poll.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  async function handle(req: http.IncomingMessage): Promise<FrontDoorResponse> {
    const read = await readBody(req);
    if ('tooLarge' in read) {
      throw Object.assign(gatewayErrors.tooLarge(), { closeConnection: !read.drained });
    }
    const url = new URL(`http://front-door${(req.url ?? '/').replace(/^\/+/, '/')}`);
    const rawPath = (req.url ?? '/').split('?')[0];
    const method = req.method ?? 'GET';
    const match = resources.match(rawPath);
    const headers = requestHeaders(req);
    if (match && method === 'OPTIONS' && options.webOrigins.length > 0) {
      return {
        status: 204,
        body: '',
        headers: preflightHeaders(options.webOrigins, options.corsAllowHeaders, headerOf(headers, 'origin')),
      };
    }
    const route = match?.methods.get(method);
    if (!match || !route) throw gatewayErrors.noRoute();
    const request: FrontDoorRequest = {
      method,
      rawPath,
      path: eventPath(rawPath),
      resource: match.resource,
      pathParameters: match.pathParameters,
      query: Object.fromEntries(url.searchParams),
      multiValueQuery: multiValues([...url.searchParams]),
      headers: Object.fromEntries(headers),
      multiValueHeaders: multiValues(headers),
      body: read.body,
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
    };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(gatewayErrors.timedOut()), timeoutMs);
    });
    try {
      return await Promise.race([route.handle(request), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  function gatewayResponse(error: GatewayError, req: http.IncomingMessage): FrontDoorResponse {
    const rendered = renderGatewayResponse(
      error,
      Object.fromEntries(requestHeaders(req)),
      options.webOrigins,
    );
    const closeConnection = (error as GatewayError & { closeConnection?: boolean }).closeConnection;
    return {
      status: rendered.status,
      body: rendered.body,
      headers: { ...rendered.headers, ...(closeConnection && { connection: 'close' }) },
    };
  }

  // A body announced too large for the limit and sent only after 100 Continue is refused unsent.
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (Number(req.headers['content-length']) > MAX_REQUEST_BYTES) {
      const refused = gatewayResponse(gatewayErrors.tooLarge(), req);
      send(res, { ...refused, headers: { ...refused.headers, connection: 'close' } });
      return;
    }
    res.writeContinue();
    server.emit('request', req, res);
  });

  // What Node's HTTP parser refuses (headers too large, a malformed request) never reaches a
  // route: it is answered here, in the API's error shape, and the connection closed.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status =
      err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const reason = http.STATUS_CODES[status]!;
    const rendered = renderGatewayResponse(
      new GatewayError('DEFAULT_4XX', reason, status),
      {},
      options.webOrigins,
    );
    const head = Object.entries({
      ...rendered.headers,
      'content-length': String(Buffer.byteLength(rendered.body)),
      connection: 'close',
    }).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.end(`HTTP/1.1 ${status} ${reason}\r\n${head.join('')}\r\n${rendered.body}`);
  });

  await listen(server, options.host, options.port);
  return { env: {}, stop: () => close(server) };
}

/**
 * The body, or that it is over the limit. A body over the limit is still read and dropped up to
 * `MAX_DRAINED_BYTES`, so the connection stays usable; one announced or sent beyond that is not.
 */
function readBody(
  req: http.IncomingMessage,
): Promise<{ readonly body: Buffer } | { readonly tooLarge: true; readonly drained: boolean }> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > MAX_REQUEST_BYTES + MAX_DRAINED_BYTES) {
      resolve({ tooLarge: true, drained: false });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BYTES) {
        chunks.push(chunk);
      } else if (size > MAX_REQUEST_BYTES + MAX_DRAINED_BYTES) {
        req.off('data', onData);
        req.pause();
        resolve({ tooLarge: true, drained: false });
      } else {
        chunks.length = 0;
      }
    };
    req.on('data', onData);
    req.on('end', () =>
      resolve(size > MAX_REQUEST_BYTES ? { tooLarge: true, drained: true } : { body: Buffer.concat(chunks) }),
    );
    req.on('error', reject);
  });
}

/** Header names as sent, each with the last of its values. */
function requestHeaders(req: http.IncomingMessage): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) pairs.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
  return pairs;
}

function headerOf(headers: readonly [string, string][], name: string): string | undefined {
  return headers.filter(([key]) => key.toLowerCase() === name).pop()?.[1];
}

function multiValues(pairs: readonly [string, string][]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of pairs) (out[name] ??= []).push(value);
  return out;
}

function send(res: http.ServerResponse, response: FrontDoorResponse): void {
  if (res.headersSent || res.destroyed) return;
  const text =
    typeof response.body === 'string' || Buffer.isBuffer(response.body)
      ? response.body
      : JSON.stringify(response.body);
  res.writeHead(response.status, {
    'content-type': 'application/json',
    ...response.headers,
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
