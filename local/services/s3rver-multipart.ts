import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type S3rver from 's3rver';
import { MAX_PARTS, MIN_PART_BYTES } from '../../lambda/contracts/s3-limits';
import { copyRangeOf, copySourceOf } from './s3-copy-source';

/**
 * The parts of S3's multipart protocol that s3rver lacks or does loosely, so that local mode
 * refuses what S3 refuses: AbortMultipartUpload and UploadPartCopy (s3rver has neither), and the
 * checks S3 makes on CompleteMultipartUpload (each ETag must match its part, parts ascending, all
 * but the last at least 5 MiB); a completed object's ETag ends in its number of parts, as in S3.
 * Everything else goes to s3rver.
 */
type FilesystemStore = S3rver['store'];

/** Handles the request and returns true, or returns false to leave it to s3rver. */
export function handleMultipart(store: FilesystemStore, req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://s3');
  const uploadId = url.searchParams.get('uploadId');
  const copiesPart = req.method === 'PUT' && req.headers['x-amz-copy-source'] !== undefined;
  if (!uploadId || (req.method !== 'DELETE' && req.method !== 'POST' && !copiesPart)) return false;
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
      if (copiesPart) return await copyPart(store, req, url, uploadDir, respond, error);
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
      // The object's ETag says it was uploaded in parts ("<hash>-<parts>"), as S3's does.
      await fs.promises.writeFile(store.getResourcePath(bucket, key, 'object.md5'), `${md5}-${parts.length}`);
      respond(
        200,
        `<CompleteMultipartUploadResult><Location>${escapeXml(`${url.origin}${url.pathname}`)}</Location><Bucket>${bucket}</Bucket><Key>${escapeXml(key)}</Key><ETag>"${md5}-${parts.length}"</ETag></CompleteMultipartUploadResult>`,
      );
    })().catch((err: Error) => error(500, 'InternalError', escapeXml(err.message)));
  });
  return true;
}

/**
 * UploadPartCopy: the source's bytes (all, or `x-amz-copy-source-range`) become the part, as
 * UploadPart would store them; `x-amz-copy-source-if-match` is checked against the source's ETag.
 * Local S3 keeps no versions, so a source that names one is not found.
 */
async function copyPart(
  store: FilesystemStore,
  req: IncomingMessage,
  url: URL,
  uploadDir: string,
  respond: (status: number, xml?: string) => void,
  error: (status: number, code: string, message: string) => void,
): Promise<void> {
  const partNumber = Number(url.searchParams.get('partNumber'));
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
    return error(
      400,
      'InvalidArgument',
      `Part number must be an integer between 1 and ${MAX_PARTS}, inclusive`,
    );
  }
  const source = copySourceOf(req);
  if (!source) {
    return error(
      400,
      'InvalidArgument',
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
    );
  }
  if (source.versionId !== undefined) {
    return error(404, 'NoSuchVersion', 'The specified version does not exist.');
  }
  const objectPath = store.getResourcePath(source.bucket, source.key, 'object');
  const stat = await fs.promises.stat(objectPath).catch(() => undefined);
  if (!stat) return error(404, 'NoSuchKey', 'The specified key does not exist.');
  const ifMatch = req.headers['x-amz-copy-source-if-match'];
  if (ifMatch !== undefined) {
    const { etag } = await store.getMetadata(source.bucket, source.key);
    if (String(ifMatch).replace(/"/g, '') !== String(etag).replace(/"/g, '')) {
      return error(
        412,
        'PreconditionFailed',
        'At least one of the pre-conditions you specified did not hold',
      );
    }
  }
  const range = copyRangeOf(req, stat.size);
  if (!range.ok) return error(400, 'InvalidArgument', escapeXml(range.message));

  const partFile = path.join(uploadDir, String(partNumber));
  const md5 = createHash('md5');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      md5.update(chunk);
      callback(null, chunk);
    },
  });
  // An empty source copies as an empty part.
  const bytes =
    range.end >= range.start
      ? fs.createReadStream(objectPath, { start: range.start, end: range.end })
      : Readable.from([]);
  await pipeline(bytes, hashing, fs.createWriteStream(partFile));
  const etag = md5.digest('hex');
  await fs.promises.writeFile(`${partFile}.md5`, etag);
  respond(
    200,
    `<CopyPartResult><LastModified>${new Date().toISOString()}</LastModified><ETag>"${etag}"</ETag></CopyPartResult>`,
  );
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
