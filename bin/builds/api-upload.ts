import * as fs from 'node:fs';

/** Calls the API with the caller's token; rejects naming the API's error. */
export type ApiCaller = (method: string, route: string, body?: unknown) => Promise<Record<string, unknown>>;

/** Part URLs asked for at once: the most `POST /v1/uploads/{id}/parts` gives. */
const PARTS_PER_REQUEST = 100;

/**
 * Sends a file through an upload that the API started (`POST /v1/uploads` or a build's): part URLs
 * asked for in batches, each part PUT to its URL, then the upload completed with the ETags.
 */
export async function uploadFile(
  api: ApiCaller,
  upload: { readonly id: string; readonly partSize: number; readonly partCount: number },
  file: string,
): Promise<void> {
  const route = `/uploads/${upload.id}`;
  const etags: { partNumber: number; etag: string }[] = [];
  const handle = await fs.promises.open(file, 'r');
  try {
    for (let first = 1; first <= upload.partCount; first += PARTS_PER_REQUEST) {
      const partNumbers = Array.from(
        { length: Math.min(PARTS_PER_REQUEST, upload.partCount - first + 1) },
        (_, i) => first + i,
      );
      const { parts } = (await api('POST', `${route}/parts`, { partNumbers })) as {
        parts: { partNumber: number; url: string; size: number }[];
      };
      for (const part of parts) {
        const content = Buffer.alloc(part.size);
        await handle.read(content, 0, part.size, (part.partNumber - 1) * upload.partSize);
        const response = await fetch(part.url, { method: 'PUT', body: content });
        await response.arrayBuffer();
        const etag = response.headers.get('etag');
        if (!response.ok || !etag)
          throw new Error(`part ${part.partNumber} was not stored: ${response.status}`);
        etags.push({ partNumber: part.partNumber, etag });
      }
    }
  } finally {
    await handle.close();
  }
  await api('POST', `${route}/complete`, { parts: etags });
}
