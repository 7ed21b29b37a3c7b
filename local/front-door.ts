import * as http from 'node:http';
import { close, listen } from './port-check';

export interface FrontDoorResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface FrontDoorRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly handle: (req: http.IncomingMessage) => Promise<FrontDoorResponse>;
}

/**
 * The local API's HTTP entrance, in the place of API Gateway: routes by method and path and
 * answers in the API's error shape `{ error: { code, message } }`.
 */
export async function startFrontDoor(options: {
  host: string;
  port: number;
  routes: FrontDoorRoute[];
}): Promise<{ stop: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://front-door').pathname;
    const matching = options.routes.filter((route) => route.path === path);
    const route = matching.find((r) => r.method === req.method);
    const respond = ({ status, body }: FrontDoorResponse) => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    if (!route) {
      respond(
        matching.length > 0
          ? { status: 405, body: apiError('MethodNotAllowed', `${req.method} is not allowed on ${path}`) }
          : { status: 404, body: apiError('NotFound', `no route for ${req.method} ${path}`) },
      );
      return;
    }
    route.handle(req).then(respond, (err: Error) => {
      respond({ status: 500, body: apiError('InternalError', err.message) });
    });
  });
  await listen(server, options.host, options.port);
  return { stop: () => close(server) };
}

export function apiError(code: string, message: string) {
  return { error: { code, message } };
}
