import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import * as os from 'node:os';
import { s3 } from '../core/aws-clients';
import { ConvertedFormat, imageObjectKey, uploadObjectKey } from '../contracts/bucket-layout';
import { convertImageFiles, LIBVIPS_MISSING } from '@imaging-platform/image-io';
import { recordMetric } from '../core/business-metrics';
import { logger } from '../core/logger';
import { uploadObject } from '../core/object-upload';
import { nameBasedUuid } from '../core/name-based-uuid';
import { settleOutputImage } from '../jobs/job-output-settlement';
import { conversionRoute } from './conversion-route';
import { readImageFiles } from './image-files';
import { ImageRecord } from './image-record';
import { ConverterGuard, deleteImageRecords, getImage, moveImage, putImage } from './image-store';
import { downloadUploadSet, newWorkFolder, removeFolder } from './upload-set-files';

export interface ConvertImageOptions {
  /**
   * What becomes of the raw uploads once the image is converted: the converter function queues
   * their removal as a message of its own, so that its conversion message is released at once; the
   * converter container, which holds no message, removes them itself (`removeConvertedUploads`).
   */
  readonly removeUploads: (imageId: string) => Promise<void>;
  /**
   * Folder under which the upload set is downloaded for the conversion, and removed after it.
   * @default os.tmpdir()
   */
  readonly workRoot?: string;
  /**
   * Set in the converter container: its Batch job id, which claims the image; an image that
   * another job holds is left alone.
   * @default - the converter function: images that name a job are left alone
   */
  readonly converterJobId?: string;
  /**
   * The converter function's way to the container, for sets it does not convert itself: larger
   * than `lambdaMaxSetBytes`, or holding pictures or slides, which need libvips.
   * @default - every set converts here
   */
  readonly container?: {
    readonly lambdaMaxSetBytes: number;
    readonly submit: (image: ImageRecord, why: string) => Promise<void>;
  };
}

/**
 * Converts the upload set of one image: downloads its files to disk, converts them, stores each
 * result under `images/<id>/`, and records Succeeded with metadata and per-file errors, or Failed
 * with the reasons. Raw uploads are removed (`removeUploads`) only after success. A repeated message
 * for an image that already ended, or that a converter container job holds, does nothing but ask
 * again for the removal of a converted image's uploads, in case the delivery that converted it
 * stopped before it asked. Errors other than
 * rejected files propagate, so the queue (or Batch) retries or fails the conversion.
 */
export async function convertImage(
  imageId: string,
  bucket: string,
  options: ConvertImageOptions,
): Promise<void> {
  logger.appendKeys({ imageId });
  const image = await getImage(imageId);
  if (!image) {
    logger.warn('conversion message for an image that does not exist');
    return;
  }
  if (image.jobOutput && (image.status === 'Succeeded' || image.status === 'Failed')) {
    // A repeated message: the delivery that ended the image may have stopped before its job heard.
    await settleOutputImage({ ...image, jobOutput: image.jobOutput });
    return;
  }
  if (image.status === 'Succeeded' || image.status === 'Failed') {
    if (image.status === 'Succeeded' && !image.uploadsRemovedAt) await options.removeUploads(imageId);
    logger.info('image already converted or failed; message ignored', { status: image.status });
    return;
  }
  const { container, converterJobId } = options;
  const files = image.jobOutput ? [] : await readImageFiles(image);
  if (container && converterJobId === undefined) {
    const route = conversionRoute(
      image.jobOutput ? jobOutputFiles(image.jobOutput) : files,
      container.lambdaMaxSetBytes,
    );
    if (route.converter === 'container' || image.converterJobId) {
      await container.submit(image, route.converter === 'container' ? route.why : 'already submitted');
      return;
    }
  }
  const guard: ConverterGuard = { converterJobId: converterJobId ?? null };
  const claimed = await moveImage(
    imageId,
    ['Queued', 'Started'],
    { status: 'Started', statusDetail: 'Converting', ...(converterJobId && { converterJobId }) },
    { ...guard, claim: true },
  );
  if (!claimed) {
    logger.info('image already converted, failed or held by another converter; left alone', {
      status: image.status,
    });
    return;
  }
  const claimedAt = Date.now();

  // An algorithm's output is read where the job runner stored it, and stays there.
  const sources = image.jobOutput
    ? jobOutputFiles(image.jobOutput).map((f) => ({ filename: f.filename, objectKey: f.key }))
    : files.map((f) => ({ filename: f.filename, objectKey: uploadObjectKey(image.owner, f.uploadId) }));
  const folder = newWorkFolder(options.workRoot ?? os.tmpdir());
  let converted: boolean;
  try {
    const inputs = await downloadUploadSet(sources, bucket, folder);
    // Archives are extracted beside the downloaded set: /tmp in the function, the scratch volume in the container.
    const result = await convertImageFiles(inputs, undefined, { scratchDir: folder });
    const errors = result.rejected.map(({ filename, reason }) => ({ filename, reason }));
    if (container && errors.some((e) => e.reason === LIBVIPS_MISSING)) {
      // Pictures in an archive, or DICOM whole-slide files: only the container can read them, so it
      // converts the whole set.
      await container.submit(image, 'the set holds pictures or slides, which need libvips');
      return;
    }
    converted = await storeResult(image, result, errors, bucket, guard, claimedAt);
  } finally {
    removeFolder(folder);
  }
  // The raw files stay when nothing was made of them.
  if (converted && !image.jobOutput) await options.removeUploads(imageId);
}

/**
 * Records the outcome: Failed when no image came out, else the outputs, the siblings and
 * Succeeded; an algorithm's output is then settled on its job. The outcome this call recorded is
 * counted, and a success timed from `claimedAt`. Returns whether images were made.
 */
async function storeResult(
  image: ImageRecord,
  result: Awaited<ReturnType<typeof convertImageFiles>>,
  errors: { filename: string; reason: string }[],
  bucket: string,
  guard: ConverterGuard,
  claimedAt: number,
): Promise<boolean> {
  const imageId = image.id;
  if (result.images.length === 0) {
    const statusDetail = 'No image could be made from the files; see errors';
    const failed = await moveImage(imageId, ['Started'], { status: 'Failed', statusDetail, errors }, guard);
    logger.info('conversion failed', { rejected: errors.length });
    if (failed) recordMetric('ConversionsFailed', 1, { Reason: 'Unreadable' });
    if (failed && image.jobOutput) {
      await settleOutputImage({
        ...image,
        jobOutput: image.jobOutput,
        status: 'Failed',
        statusDetail,
        errors,
      });
    }
    return false;
  }

  const [first, ...others] = result.images;
  // Ids follow from the image and the output's name, so that a retried message writes the same siblings.
  const siblings = others.map((output) => ({ id: siblingId(imageId, output.name), name: output.name }));
  const stored = await Promise.all(
    result.images.map(async (output, i) => {
      const id = i === 0 ? imageId : siblings[i - 1].id;
      const key = imageObjectKey(id, convertedFormat(output.name));
      // In parts when larger than one: a converted image may pass S3's 5 GiB for one request.
      await uploadObject(s3(), {
        bucket,
        key,
        body: output.content,
        bytes: output.content.length,
        contentType: 'application/octet-stream',
      });
      return key;
    }),
  );
  const now = new Date().toISOString();
  for (const [i, output] of others.entries()) {
    const sibling: ImageRecord = {
      ...image,
      id: siblings[i].id,
      filesOf: image.filesOf ?? imageId,
      name: output.name,
      status: 'Succeeded',
      statusDetail: 'Converted',
      errors,
      metadata: output.metadata,
      outputKey: stored[i + 1],
      siblings: [{ id: imageId, name: first.name }, ...siblings.filter((s) => s.id !== siblings[i].id)],
      createdAt: now,
      updatedAt: now,
    };
    await putImage(sibling).catch((err: Error) => {
      // Written by an earlier try of this message, which stopped before the image itself moved.
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    });
  }
  const ended = await moveImage(
    imageId,
    ['Started'],
    {
      status: 'Succeeded',
      statusDetail: 'Converted',
      errors,
      metadata: first.metadata,
      outputKey: stored[0],
      siblings,
    },
    guard,
  );
  if (!ended) {
    // Another worker ended the image first (SQS delivers at least once). If it failed the image,
    // the siblings written above belong to no image and go; if it converted it, they are the same
    // records, and the raw uploads are its to remove.
    const now = await getImage(imageId);
    if (!now || now.status === 'Failed') await deleteImageRecords(siblings.map((s) => s.id));
    logger.info('image ended by another delivery; left as it is', { status: now?.status });
    return false;
  }
  logger.info('image converted', { outputs: result.images.length, rejected: errors.length });
  recordMetric('ConversionsSucceeded', 1);
  recordMetric('ConversionSeconds', (Date.now() - claimedAt) / 1000);
  if (image.jobOutput) {
    await settleOutputImage({ ...image, jobOutput: image.jobOutput, status: 'Succeeded', errors });
  }
  return true;
}

/** The files an algorithm's image output is converted from: the image, and a `.mhd`'s data file. */
function jobOutputFiles(output: NonNullable<ImageRecord['jobOutput']>) {
  return [output, ...(output.dataFile ? [output.dataFile] : [])];
}

/** The format the image library wrote an output in, by the extension it gave the output's name. */
function convertedFormat(outputName: string): ConvertedFormat {
  const format = /\.(mha|tif)$/.exec(outputName)?.[1];
  if (!format) throw new Error(`the converter made an output of no known format: ${outputName}`);
  return format as ConvertedFormat;
}

/** The id of an image made from one output of an upload set: the same on every try. */
export function siblingId(imageId: string, outputName: string): string {
  return nameBasedUuid(imageId, outputName);
}
