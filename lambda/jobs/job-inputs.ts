import { S3Client } from '@aws-sdk/client-s3';
import { badRequest, conflict } from '../api/api-error';
import { AlgorithmRecord, Socket } from '../algorithms/algorithm-record';
import { schemaMismatch, SocketSchemaError } from '../algorithms/socket-schemas';
import { ImageRecord } from '../images/image-record';
import { getVisibleImage } from '../images/image-store';
import { UploadRecord } from '../uploads/upload-record';
import { getOwnedUpload } from '../uploads/upload-store';
import { jobInputKey } from '../contracts/bucket-layout';
import { pinnedObject } from '../core/object-copy';
import { ManifestInput } from './job-manifest';
import { JobInput } from './job-record';

/**
 * The interface whose inputs are exactly the submitted sockets; the contract refuses inputs that
 * match none. Algorithms never have two interfaces with the same inputs, so at most one matches.
 */
export function matchInterface(algorithm: AlgorithmRecord, inputs: readonly JobInput[]): number {
  const given = inputs.map((i) => i.socket);
  const repeated = given.find((slug, i) => given.indexOf(slug) !== i);
  if (repeated) throw badRequest(`socket "${repeated}" is given twice`);
  const key = (slugs: readonly string[]) => [...slugs].sort().join(', ');
  const index = algorithm.interfaces.findIndex(
    (candidate) => key(candidate.inputs.map((s) => s.slug)) === key(given),
  );
  if (index === -1) {
    const accepted = algorithm.interfaces
      .map((candidate) => `(${key(candidate.inputs.map((s) => s.slug))})`)
      .join(' or ');
    throw badRequest(
      `the inputs (${key(given)}) match no interface of algorithm ${algorithm.id}; it takes ${accepted}`,
    );
  }
  return index;
}

/** An input that passed its checks, with the socket it fills and the image or upload it names. */
export interface CheckedInput {
  readonly input: JobInput;
  readonly socket: Socket;
  readonly image?: ImageRecord;
  readonly upload?: UploadRecord;
}

/**
 * Each input carries what its socket's kind needs: an image the caller may see and that is
 * converted, a JSON value that matches the socket's schema (compiled for the algorithm version
 * `version` alone), or a completed upload of the caller.
 */
export async function checkInputs(
  version: string,
  sockets: readonly Socket[],
  inputs: readonly JobInput[],
  userId: string,
): Promise<CheckedInput[]> {
  const checked: CheckedInput[] = [];
  for (const input of inputs) {
    const socket = sockets.find((s) => s.slug === input.socket)!;
    const given = (['image', 'value', 'file'] as const).filter((field) => input[field] !== undefined);
    const needed = socket.kind === 'image' ? 'image' : socket.kind === 'json' ? 'value' : 'file';
    if (given.length !== 1 || given[0] !== needed) {
      throw badRequest(
        `input "${socket.slug}" is a socket of kind ${socket.kind} and takes exactly one "${needed}"`,
      );
    }
    if (needed === 'image') {
      const image = await getVisibleImage(input.image!, userId);
      if (image.status !== 'Succeeded') {
        throw conflict(
          `image ${image.id} for input "${socket.slug}" is ${image.status}; only converted images can be inputs`,
        );
      }
      checked.push({ input, socket, image });
    } else if (needed === 'value') {
      const mismatch = socket.schema && valueMismatch(version, socket, input.value);
      if (mismatch) throw badRequest(`input "${socket.slug}" does not match its schema: ${mismatch}`);
      checked.push({ input, socket });
    } else {
      const upload = await getOwnedUpload(input.file!, userId);
      if (upload.status !== 'Completed') {
        throw conflict(
          `upload ${upload.id} for input "${socket.slug}" is ${upload.status}; complete it first`,
        );
      }
      checked.push({ input, socket, upload });
    }
  }
  return checked;
}

/** What does not match in a value, or undefined; a schema that does not compile is the algorithm's fault. */
function valueMismatch(version: string, socket: Socket, value: unknown): string | undefined {
  try {
    return schemaMismatch(version, socket.schema!, value);
  } catch (err) {
    if (!(err instanceof SocketSchemaError)) throw err;
    throw conflict(
      `the schema of input "${socket.slug}" cannot check values (${err.message}); the algorithm's editors must register it anew`,
    );
  }
}

/**
 * Where each input goes under /input, and which stored object is copied for it under the job's
 * own prefix (so the runner reads nothing outside `jobs/<id>/`); `pinSources` then says which
 * version of it. Copies are keyed by the input's position; where it goes under /input is the
 * manifest's to say.
 */
export function placeInputs(
  jobId: string,
  checked: readonly CheckedInput[],
): { placed: ManifestInput[]; copies: { from: string; to: string }[] } {
  const placed: ManifestInput[] = [];
  const copies: { from: string; to: string }[] = [];
  checked.forEach(({ input, socket, image, upload }, position) => {
    if (image) {
      // The converted file's own name (`<imageId>.mha`), as grand-challenge places images.
      const name = image.outputKey!.slice(image.outputKey!.lastIndexOf('/') + 1);
      const path = `${socket.relativePath.replace(/\/+$/, '')}/${name}`;
      const key = jobInputKey(jobId, position);
      placed.push({ socket, path, key, image: { pk: image.id, name: image.name } });
      copies.push({ from: image.outputKey!, to: key });
    } else if (upload) {
      const key = jobInputKey(jobId, position);
      placed.push({ socket, path: socket.relativePath, key, file: upload.id });
      copies.push({ from: upload.objectKey, to: key });
    } else {
      placed.push({ socket, path: socket.relativePath, value: input.value });
    }
  });
  return { placed, copies };
}

/**
 * Each copied input with the object it is copied from as that object is at submission: its
 * version (the bucket keeps versions), size and ETag, so that the staging job copies what was
 * submitted even if the object is replaced or deleted before the job starts. A source that is
 * gone refuses the submission, naming the input.
 */
export async function pinSources(
  s3: S3Client,
  bucket: string,
  placed: readonly ManifestInput[],
  copies: readonly { from: string; to: string }[],
): Promise<ManifestInput[]> {
  return Promise.all(
    placed.map(async (input) => {
      const copy = copies.find((c) => c.to === input.key);
      if (!copy) return input;
      const source = await pinnedObject(s3, bucket, copy.from);
      if (!source) {
        throw conflict(`the stored file of input "${input.socket.slug}" is gone; it cannot be an input`);
      }
      return { ...input, source };
    }),
  );
}
