import * as http from 'node:http';
import * as net from 'node:net';

export interface ReceivedResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason: string;
  readonly PhysicalResourceId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly StackId: string;
  readonly Data: Record<string, string>;
}

/** Plays CloudFormation's presigned response URL: records each PUT body a custom resource sends. */
export async function startResponseServer() {
  const received: ReceivedResponse[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'PUT') received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(req.method === 'PUT' ? 200 : 405).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/cloudformation-response`,
    received,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
