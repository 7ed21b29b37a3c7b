import * as fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';
import type S3rver from 's3rver';

/**
 * The parts of S3's multipart protocol that s3rver lacks or does loosely, so that local mode
 * refuses what S3 refuses: AbortMultipartUpload (s3rver has none), and the checks S3 makes on
 * CompleteMultipartUpload (each ETag must match its part, parts ascending, all but the last at
 * least 5 MiB). Everything else goes to s3rver.
 */
type FilesystemStore = S3rver['store'];

const MIN_PART_BYTES = 5 * 1024 * 1024;

/** Handles the request and returns true, or returns false to leave it to s3rver. */
export function handleMultipart(store: FilesystemStore, req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://s3');
  const uploadId = url.searchParams.get('uploadId');
  if (!uploadId || (req.method !== 'DELETE' && req.method !== 'POST')) return false;
  const [, bucket, ...keyParts] = url.pathname.split('/');
  const key = keyParts.map(decodeURIComponent).join('/');
  const uploadDir = path.join(store.getResourcePath(bucket, undefined, 'uploads'), path.basename(uploadId));
  const respond = (status: number, xml?: string) => {
    res.writeHead(status, xml ? { 'content-type': 'application/xml' } : {});
    res.end(xml ? `<?xml version="1.0" encoding="UTF-8"?>\n${xml}` : undefined);
  };
  const error = (status: number, code: string, message: string) =>
    respond(
      status,
      `<Error><Code>${code}</Code><Message>${message}</Message><UploadId>${escapeXml(uploadId)}</UploadId></Error>`,
    );

  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    void (async () => {
      if (!fs.existsSync(path.join(uploadDir, 'key'))) {
        return error(404, 'NoSuchUpload', 'The specified upload does not exist.');
      }
      if (req.method === 'DELETE') {
        await fs.promises.rm(uploadDir, { recursive: true, force: true });
        return respond(204);
      }
      const xml = Buffer.concat(chunks).toString('utf8');
      const parts = [...xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map(([, part]) => ({
        number: Number(part.match(/<PartNumber>(\d+)<\/PartNumber>/)?.[1]),
        etag: (part.match(/<ETag>([^<]*)<\/ETag>/)?.[1] ?? '').replace(/"|&quot;/g, ''),
      }));
      if (parts.length === 0) return error(400, 'MalformedXML', 'The XML you provided was not well-formed.');
      for (let i = 0; i < parts.length; i++) {
        if (i > 0 && parts[i].number <= parts[i - 1].number) {
          return error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order.');
        }
        const partFile = path.join(uploadDir, String(parts[i].number));
        const md5 = await fs.promises.readFile(`${partFile}.md5`, 'utf8').catch(() => undefined);
        if (md5 !== parts[i].etag) {
          return error(
            400,
            'InvalidPart',
            `Part ${parts[i].number} could not be found or its ETag does not match.`,
          );
        }
        if (i < parts.length - 1 && (await fs.promises.stat(partFile)).size < MIN_PART_BYTES) {
          return error(
            400,
            'EntityTooSmall',
            'Your proposed upload is smaller than the minimum allowed size.',
          );
        }
      }
      const { md5 } = await store.putObjectMultipart(bucket, uploadId, parts);
      respond(
        200,
        `<CompleteMultipartUploadResult><Location>${escapeXml(`${url.origin}${url.pathname}`)}</Location><Bucket>${bucket}</Bucket><Key>${escapeXml(key)}</Key><ETag>"${md5}-${parts.length}"</ETag></CompleteMultipartUploadResult>`,
      );
    })().catch((err: Error) => error(500, 'InternalError', escapeXml(err.message)));
  });
  return true;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
