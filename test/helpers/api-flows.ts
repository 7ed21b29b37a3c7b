import { apiClient } from './api-client';

type Call = ReturnType<typeof apiClient>;

/** Uploads `content` in one part through the API, as a user's script would, and completes it. */
export async function completedUpload(
  call: Call,
  token: string,
  filename = 'ct.mha',
  content: string | Buffer = 'ObjectType = Image\n',
): Promise<string> {
  const data = Buffer.from(content);
  const created = await call('POST', '/v1/uploads', { token, body: { filename, size: data.length } });
  const signed = await call('POST', '/v1/uploads/{uploadId}/parts', {
    token,
    params: { uploadId: created.body.id },
    body: { partNumbers: [1] },
  });
  const put = await fetch(signed.body.parts[0].url, { method: 'PUT', body: data });
  await call('POST', '/v1/uploads/{uploadId}/complete', {
    token,
    params: { uploadId: created.body.id },
    body: { parts: [{ partNumber: 1, etag: put.headers.get('etag') }] },
  });
  return created.body.id;
}

/** Reads the image until the local converter (function or container) has finished with it. */
export async function settledImage(call: Call, token: string, imageId: string) {
  for (let attempt = 0; attempt < 600; attempt++) {
    const read = await call('GET', '/v1/images/{imageId}', { token, params: { imageId } });
    if (read.body.status === 'Succeeded' || read.body.status === 'Failed') return read.body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`image ${imageId} was not converted in time`);
}

/** Reads the job until it has ended, as a client polling for its result would. */
export async function endedJob(call: Call, token: string, jobId: string) {
  for (let attempt = 0; attempt < 1200; attempt++) {
    const read = await call('GET', '/v1/jobs/{jobId}', { token, params: { jobId } });
    if (['Succeeded', 'Failed', 'Cancelled'].includes(read.body.status)) return read.body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`job ${jobId} did not end in time`);
}
