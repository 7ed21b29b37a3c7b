import sharp from 'sharp';
import { RenderedFrame } from './view-state';

export type FrameQuality = 'interactive' | 'still';

export interface EncodedFrame {
  readonly contentType: string;
  readonly bytes: Buffer;
}

// Every frame is new: libvips' cache of operations would only hold on to their buffers.
sharp.cache(false);

/** JPEG quality while the user drags or scrolls: the still frame that follows is exact. */
export const INTERACTIVE_JPEG_QUALITY = 85;

/**
 * Encodes a frame for the browser: JPEG while interacting, lossless PNG when still. Measured on
 * 512x512 frames (`npm run bench`): PNG at zlib level 1 with one filter for every row is about
 * 1 ms, where lossless WebP takes 6 ms at its fastest effort and PNG's adaptive filtering 7 ms;
 * JPEG without Huffman optimisation is about 1.5 ms.
 */
export async function encodeFrame(frame: RenderedFrame, quality: FrameQuality): Promise<EncodedFrame> {
  const { width, height, rgb } = frame;
  if (rgb.length !== width * height * 3) {
    throw new Error(
      `the frame holds ${rgb.length} bytes, not the ${width * height * 3} of ${width}x${height} RGB`,
    );
  }
  const image = sharp(rgb, { raw: { width, height, channels: 3 } });
  if (quality === 'interactive') {
    const bytes = await image.jpeg({ quality: INTERACTIVE_JPEG_QUALITY, optimiseCoding: false }).toBuffer();
    return { contentType: 'image/jpeg', bytes };
  }
  if (quality !== 'still')
    throw new Error(`the frame quality ${String(quality)} is not interactive or still`);
  const bytes = await image.png({ compressionLevel: 1, adaptiveFiltering: false }).toBuffer();
  return { contentType: 'image/png', bytes };
}
