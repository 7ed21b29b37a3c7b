import * as http from 'node:http';
import { AddressInfo } from 'node:net';

/** What the file server saw: every request's range, and the bytes it sent. */
export interface RangeLog {
  readonly requests: { path: string; range: string | undefined }[];
  bytesSent: number;
}

export interface RangeServer {
  readonly baseUrl: string;
  readonly log: RangeLog;
  close(): Promise<void>;
}

/**
 * A local HTTP server with Range support, as CloudFront serves an object: `GET /files/{name}`
 * answers 206 with the bytes asked for (200 with the whole file when no range is asked), and
 * counts what it sends. Other paths go to `other`, when given.
 */
export async function startRangeServer(
  files: ReadonlyMap<string, Buffer>,
  other?: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<RangeServer> {
  const log: RangeLog = { requests: [], bytesSent: 0 };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const file = url.pathname.startsWith('/files/') ? files.get(url.pathname.slice(7)) : undefined;
    if (!url.pathname.startsWith('/files/') && other) return other(req, res);
    log.requests.push({ path: url.pathname, range: req.headers.range });
    if (!file) {
      res.writeHead(403).end();
      return;
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (!range) {
      log.bytesSent += file.length;
      res.writeHead(200, { 'content-length': file.length, 'accept-ranges': 'bytes' }).end(file);
      return;
    }
    const start = Number(range[1]);
    const end = Math.min(range[2] ? Number(range[2]) : file.length - 1, file.length - 1);
    if (start >= file.length) {
      res.writeHead(416, { 'content-range': `bytes */${file.length}` }).end();
      return;
    }
    const body = file.subarray(start, end + 1);
    log.bytesSent += body.length;
    res
      .writeHead(206, {
        'content-range': `bytes ${start}-${end}/${file.length}`,
        'content-length': body.length,
        'accept-ranges': 'bytes',
      })
      .end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
