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

/** A 4 x 3 x 2 int16 volume with values 0, 10, 20, ... 230 and 0.5 x 0.5 x 2 mm voxels, as .mha. */
export const SMALL_CT = Buffer.concat([
  Buffer.from(
    'ObjectType = Image\nNDims = 3\nDimSize = 4 3 2\nElementSpacing = 0.5 0.5 2\nElementType = MET_SHORT\nElementDataFile = LOCAL\n',
  ),
  Buffer.from(Int16Array.from({ length: 24 }, (_, i) => i * 10).buffer),
]);

/** Uploads `content` as `filename`, makes an image of it and waits for its conversion; its id. */
export async function convertedImage(
  call: Call,
  token: string,
  filename = 'ct.mha',
  content: Buffer = SMALL_CT,
): Promise<string> {
  const upload = await completedUpload(call, token, filename, content);
  const created = await call('POST', '/v1/images', { token, body: { uploads: [upload] } });
  const image = await settledImage(call, token, created.body.id);
  if (image.status !== 'Succeeded')
    throw new Error(`${filename} was not converted: ${JSON.stringify(image)}`);
  return image.id;
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
