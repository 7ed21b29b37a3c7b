import * as http from 'node:http';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';

/** A session's viewer, and the headers the host adds to what it passes on (they replace the client's). */
export interface ProxyTarget {
  readonly host: string;
  readonly port: number;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Hands a request on to a session's viewer and its answer back, as they stream. The Host header
 * and the load balancer's X-Forwarded headers go on unchanged: the viewer's cookie and socket
 * origin checks read them.
 */
export function proxyRequest(req: http.IncomingMessage, res: http.ServerResponse, target: ProxyTarget): void {
  const headers = { ...req.headers, ...target.headers };
  const upstream = http.request(
    { host: target.host, port: target.port, method: req.method, path: req.url, headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => {
    if (res.headersSent) return void res.destroy();
    res.writeHead(502, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ error: "the session's viewer did not answer" }));
  });
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
}

/** Hands a WebSocket upgrade on, then joins the two sockets; either closing closes the other. */
export function proxyUpgrade(
  req: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: ProxyTarget,
): void {
  const added = new Set(Object.keys(target.headers).map((name) => name.toLowerCase()));
  const upstream = net.connect(target.port, target.host, () => {
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (added.has(req.rawHeaders[i].toLowerCase())) continue;
      lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    }
    for (const [name, value] of Object.entries(target.headers)) lines.push(`${name}: ${value}`);
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.setNoDelay(true);
  const close = () => {
    upstream.destroy();
    socket.destroy();
  };
  upstream.on('error', close);
  upstream.on('close', close);
  socket.on('error', close);
  socket.on('close', close);
}
