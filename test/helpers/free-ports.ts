import * as net from 'node:net';
import type { LocalService } from '../../local/local-options';

/** Ports the kernel reports free right now, so parallel test files never collide. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve) => {
          const server = net.createServer();
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

export async function freeLocalPorts(): Promise<Record<LocalService, number>> {
  const [api, s3, dynamodb, sqs, batch, cloudfront, secretsManager, logs, codepipeline, viewer] =
    await freePorts(10);
  return { api, s3, dynamodb, sqs, batch, cloudfront, secretsManager, logs, codepipeline, viewer };
}
