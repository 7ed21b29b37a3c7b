import * as http from 'node:http';

/**
 * The container engine's HTTP API over its Unix socket: Docker's `/var/run/docker.sock` on a
 * viewer host, or the same API served by `podman system service`. Only the calls the host makes,
 * with no CLI in the image.
 */
export class EngineApi {
  constructor(
    /** The engine's socket. */
    readonly socketPath: string,
    /** Docker's API version that every call names (Docker 20.10 and podman 4 speak it). */
    private readonly version = 'v1.41',
  ) {}

  /** The answer's JSON; throws with the engine's own words for any status of 400 or more. */
  async call<T = unknown>(method: string, route: string, body?: unknown, timeoutMs = 60_000): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(
        {
          socketPath: this.socketPath,
          method,
          path: `/${this.version}${route}`,
          headers: payload
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {},
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`the container engine did not answer ${method} ${route}`)),
      );
      req.on('error', reject);
      req.end(payload);
    });
    if (status >= 400) {
      let words = text;
      try {
        words = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // Not JSON: the text as it came.
      }
      throw new EngineError(
        status,
        `the container engine answered ${method} ${route} with ${status}: ${words}`,
      );
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

export class EngineError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
