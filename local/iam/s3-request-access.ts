import type { IncomingHttpHeaders } from 'node:http';
import { AccessContext, kmsUse, RequiredAccess } from './required-access';

/**
 * What S3 authorizes for a path-style request, as the Service Authorization Reference maps its
 * operations to actions: multipart uploads are s3:PutObject (abort: s3:AbortMultipartUpload),
 * HeadObject s3:GetObject, CopyObject s3:GetObject on the source and s3:PutObject on the target.
 * On an SSE-KMS bucket S3 uses the key for the caller: kms:GenerateDataKey to write an object or
 * start a multipart upload, kms:Decrypt to read one, upload or complete a part (CreateMultipartUpload
 * and UploadPart in the S3 API reference).
 */
export function s3RequiredAccess(
  context: AccessContext,
  request: { method: string; url: URL; headers: IncomingHttpHeaders },
): RequiredAccess[] {
  const { method, url, headers } = request;
  const [, bucket = '', ...keyParts] = url.pathname.split('/');
  const key = keyParts.map((part) => decodeURIComponent(part)).join('/');
  const query = url.searchParams;
  const bucketArn = `arn:aws:s3:::${bucket}`;
  if (bucket === '') return [{ action: 's3:ListAllMyBuckets', resource: '*' }];
  const s3Context = { 's3:TlsVersion': '1.3' };
  const on = (action: string, resource: string, extra: Record<string, string> = {}): RequiredAccess => ({
    action,
    resource,
    context: { ...s3Context, ...extra },
  });
  const encryption = { 'aws:s3:arn': bucketArn };
  const writeKey = () => kmsUse(context, bucketArn, 'kms:GenerateDataKey', 's3', encryption);
  const readKey = () => kmsUse(context, bucketArn, 'kms:Decrypt', 's3', encryption);

  if (keyParts.length === 0 || key === '') {
    switch (method) {
      case 'GET':
        if (query.has('uploads')) return [on('s3:ListBucketMultipartUploads', bucketArn)];
        if (query.has('versions')) return [on('s3:ListBucketVersions', bucketArn)];
        if (query.has('location')) return [on('s3:GetBucketLocation', bucketArn)];
        if (query.has('cors')) return [on('s3:GetBucketCORS', bucketArn)];
        return [on('s3:ListBucket', bucketArn, { 's3:prefix': query.get('prefix') ?? '' })];
      case 'HEAD':
        return [on('s3:ListBucket', bucketArn)];
      case 'PUT':
        return [on(query.has('cors') ? 's3:PutBucketCORS' : 's3:CreateBucket', bucketArn)];
      case 'DELETE':
        return [on('s3:DeleteBucket', bucketArn)];
      default:
        // DeleteObjects names its keys in the body: `deleteObjectsRequiredAccess` decides it.
        return [on(`s3:${method}Bucket`, bucketArn)];
    }
  }
  const objectArn = `${bucketArn}/${key}`;
  const versioned = query.has('versionId');
  switch (method) {
    case 'GET':
      if (query.has('tagging'))
        return [on(versioned ? 's3:GetObjectVersionTagging' : 's3:GetObjectTagging', objectArn)];
      if (query.has('uploadId')) return [on('s3:ListMultipartUploadParts', objectArn)];
      if (query.has('acl')) return [on('s3:GetObjectAcl', objectArn)];
      return [on(versioned ? 's3:GetObjectVersion' : 's3:GetObject', objectArn), ...readKey()];
    case 'HEAD':
      return [on(versioned ? 's3:GetObjectVersion' : 's3:GetObject', objectArn)];
    case 'PUT': {
      if (query.has('tagging'))
        return [on(versioned ? 's3:PutObjectVersionTagging' : 's3:PutObjectTagging', objectArn)];
      if (query.has('uploadId')) return [on('s3:PutObject', objectArn), ...readKey()];
      const copySource = headers['x-amz-copy-source'];
      const tagging = headers['x-amz-tagging'] ? [on('s3:PutObjectTagging', objectArn)] : [];
      if (typeof copySource === 'string') {
        const [sourcePath, sourceQuery = ''] = decodeURIComponent(copySource)
          .replace(/^\//, '')
          .split('?', 2);
        const sourceBucket = sourcePath.split('/', 1)[0];
        const sourceVersioned = /(^|&)versionId=/.test(sourceQuery);
        return [
          on(sourceVersioned ? 's3:GetObjectVersion' : 's3:GetObject', `arn:aws:s3:::${sourcePath}`),
          ...kmsUse(context, `arn:aws:s3:::${sourceBucket}`, 'kms:Decrypt', 's3', {
            'aws:s3:arn': `arn:aws:s3:::${sourceBucket}`,
          }),
          on('s3:PutObject', objectArn),
          ...tagging,
          ...writeKey(),
        ];
      }
      return [on('s3:PutObject', objectArn), ...tagging, ...writeKey()];
    }
    case 'POST':
      if (query.has('uploads')) return [on('s3:PutObject', objectArn), ...writeKey()];
      if (query.has('uploadId')) return [on('s3:PutObject', objectArn), ...readKey()];
      return [on('s3:PutObject', objectArn)];
    case 'DELETE':
      if (query.has('uploadId')) return [on('s3:AbortMultipartUpload', objectArn)];
      if (query.has('tagging')) return [on('s3:DeleteObjectTagging', objectArn)];
      return [on(versioned ? 's3:DeleteObjectVersion' : 's3:DeleteObject', objectArn)];
    default:
      return [on(`s3:${method}Object`, objectArn)];
  }
}

/**
 * What DeleteObjects (`POST /<bucket>?delete`) needs: s3:DeleteObject on every key its body names.
 * S3 refuses the keys one by one in its answer; local mode refuses the whole request when any is
 * refused, which no handler that is allowed its keys can tell apart.
 */
export function deleteObjectsRequiredAccess(bucket: string, body: string): RequiredAccess[] {
  const keys = [...body.matchAll(/<Key>([^<]*)<\/Key>/g)].map(([, key]) => unescapeXml(key));
  return keys.map((key) => ({
    action: 's3:DeleteObject',
    resource: `arn:aws:s3:::${bucket}/${key}`,
    context: { 's3:TlsVersion': '1.3' },
  }));
}

/** Whether a request is DeleteObjects, whose body names the keys it deletes. */
export function isDeleteObjects(method: string, url: URL): boolean {
  const [, bucket = '', ...keyParts] = url.pathname.split('/');
  return method === 'POST' && bucket !== '' && keyParts.join('') === '' && url.searchParams.has('delete');
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&#x([0-9a-fA-F]+);/g, (_, code: string) => String.fromCodePoint(parseInt(code, 16)))
    .replace(/&amp;/g, '&');
}
