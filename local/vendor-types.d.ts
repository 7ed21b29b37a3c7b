// Minimal typings for the embedded AWS stand-ins, which ship none.

declare module 's3rver' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  interface S3rverOptions {
    directory: string;
    silent?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }
  export default class S3rver {
    constructor(options: S3rverOptions);
    configureBuckets(): Promise<void>;
    /** Where s3rver keeps objects and multipart parts. */
    readonly store: {
      getResourcePath(bucket: string, key: string | undefined, resource: string): string;
      putObjectMultipart(
        bucket: string,
        uploadId: string,
        parts: { number: number; etag: string }[],
      ): Promise<{ md5: string; size: number }>;
    };
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
  }
}

declare module 'dynalite' {
  import type { Server } from 'node:http';
  interface DynaliteOptions {
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
  }
  export default function dynalite(options: DynaliteOptions): Server;
}

declare module 's3rver/lib/models/account' {
  /** The one account s3rver has; a request must be signed with one of its keys. */
  export const DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void };
}
