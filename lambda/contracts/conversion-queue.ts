import { settingsGroup, text } from './settings';

/**
 * The conversion queue: one message `{ imageId }` per image to convert, and once the converter
 * function converted one, `{ imageId, removeUploads: true }` to remove its raw uploads apart from
 * the conversion (see `upload-removal.ts`). The api stack creates
 * it with a dead-letter queue; local mode creates the same pair in its SQS stand-in.
 */
export const CONVERSION_QUEUE = {
  /** Receives before a message is moved to the dead-letter queue. */
  maxReceiveCount: 3,
  /** Long enough for the converter to finish one image set before the message reappears. */
  visibilityTimeoutSeconds: 900,
} as const;

export interface ConversionMessage {
  readonly imageId: string;
  /** Remove the raw uploads of the converted image instead of converting it. */
  readonly removeUploads?: true;
}

/** Where handlers that queue images send their messages. */
export const CONVERSION_QUEUE_URL = settingsGroup('the conversion queue', { conversionQueueUrl: text });
