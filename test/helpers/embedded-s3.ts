import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { S3RVER_CREDENTIALS, startEmbeddedS3 } from '../../local/services/s3';
import { freePorts } from './free-ports';

/** Local mode's S3 on its own, for tests of code that talks to S3 and nothing else. */
export interface EmbeddedS3 {
  /** A client as handlers configure theirs against local S3. */
  readonly s3: S3Client;
  readonly endpoint: string;
  /** Where it keeps its files, for tests that look at what s3rver wrote. */
  readonly dataDir: string;
  /** The names of the commands `s3` sent, in order (`PutObject`, `UploadPart`…); empty it at will. */
  readonly sent: string[];
  /** The bytes stored under `key` in the bucket, or undefined when there is no such object. */
  stored(key: string): Promise<Buffer | undefined>;
  stop(): Promise<void>;
}

/** Starts local S3 with one bucket in a folder of its own, removed again by `stop`. */
export async function startS3(bucketName: string): Promise<EmbeddedS3> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'embedded-s3-'));
  const [port] = await freePorts(1);
  const service = await startEmbeddedS3({
    dataDir,
    host: '127.0.0.1',
    port,
    bucketName,
    webOrigins: ['http://localhost:4000'],
  });
  const endpoint = service.env.AWS_ENDPOINT_URL_S3;
  const s3 = new S3Client({
    region: 'eu-central-1',
    endpoint,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const sent: string[] = [];
  s3.middlewareStack.add(
    (next, context) => (args) => {
      sent.push(context.commandName!.replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  return {
    s3,
    endpoint,
    dataDir,
    sent,
    stored: async (key) => {
      try {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucketName, Key: key }));
        return Buffer.from(await object.Body!.transformToByteArray());
      } catch (err) {
        if ((err as Error).name === 'NoSuchKey') return undefined;
        throw err;
      }
    },
    stop: async () => {
      s3.destroy();
      await service.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
