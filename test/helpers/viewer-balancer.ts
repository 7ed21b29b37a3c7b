import * as http from 'node:http';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';

/** The cookie that keeps a browser on the host it was sent to, as the load balancer's stickiness does. */
const STICKY_COOKIE = 'viewer-target';

/**
 * A stand-in for a viewer region's load balancer: round robin over the hosts whose health check
 * answers 200, sticky by a cookie while the host it names stays healthy (as an Application Load
 * Balancer's stickiness does), WebSockets passed through, and every host tried when none is
 * healthy (as it fails open).
 */
export async function startViewerBalancer(
  targets: readonly string[],
  options: { port?: number; healthPath?: string; healthIntervalMs?: number } = {},
) {
  const healthy = targets.map(() => false);
  /** Hosts that stopped answering without closing anything, as a vanished instance does. */
  const frozen = new Set<number>();
  const tunnels: { index: number; client: Duplex; upstream: net.Socket }[] = [];
  let next = 0;
  const checkHealth = () =>
    Promise.all(
      targets.map(async (target, i) => {
        if (frozen.has(i)) return void (healthy[i] = false);
        healthy[i] = await fetch(`${target}${options.healthPath ?? '/healthz'}`, {
          signal: AbortSignal.timeout(1000),
        }).then(
          (response) => response.status === 200,
          () => false,
        );
      }),
    );
  await checkHealth();
  const timer = setInterval(() => void checkHealth(), options.healthIntervalMs ?? 200);

  /** The host for a request: its sticky one if healthy, else the next healthy one. */
  const choose = (cookieHeader: string | undefined): { index: number; sticky: boolean } => {
    const named = new RegExp(`(?:^|;\\s*)${STICKY_COOKIE}=(\\d+)`).exec(cookieHeader ?? '');
    const stuck = named ? Number(named[1]) : -1;
    if (healthy[stuck]) return { index: stuck, sticky: true };
    const candidates = healthy.some(Boolean)
      ? targets.map((_, i) => i).filter((i) => healthy[i])
      : targets.map((_, i) => i);
    const index = candidates[next++ % candidates.length];
    return { index, sticky: false };
  };
  const routed: number[] = [];

  const sockets = new Set<Duplex>();
  const server = http.createServer((req, res) => {
    const { index, sticky } = choose(req.headers.cookie);
    routed.push(index);
    const target = new URL(targets[index]);
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        const headers = { ...answer.headers };
        if (!sticky) {
          const cookies = [answer.headers['set-cookie'] ?? []].flat();
          headers['set-cookie'] = [...cookies, `${STICKY_COOKIE}=${index}; Path=/; HttpOnly; SameSite=Lax`];
        }
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(502, { 'content-type': 'text/plain' }).end('the target did not answer');
    });
    req.pipe(upstream);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const { index } = choose(req.headers.cookie);
    routed.push(index);
    const target = new URL(targets[index]);
    const upstream = net.connect(Number(target.port), target.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
      tunnels.push({ index, client: socket, upstream });
    });
    const close = () => {
      upstream.destroy();
      socket.destroy();
    };
    upstream.on('error', close).on('close', close);
    socket.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    /** The host each request and socket was sent to, by index, in order. */
    routed,
    /**
     * The host stops answering: its sockets stay open but carry nothing more either way, and
     * its health check fails, as when an instance vanishes from the network.
     */
    freeze: (index: number) => {
      frozen.add(index);
      healthy[index] = false;
      for (const tunnel of tunnels.filter((t) => t.index === index)) {
        tunnel.upstream.unpipe(tunnel.client);
        tunnel.client.unpipe(tunnel.upstream);
        tunnel.upstream.pause();
        tunnel.client.pause();
      }
    },
    stop: async () => {
      clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      for (const tunnel of tunnels) tunnel.upstream.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
