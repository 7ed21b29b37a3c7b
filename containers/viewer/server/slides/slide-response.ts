import { Slide } from './open-slide';
import { SlideError } from './slide-error';

/** What a slide route answers: a tile, the slide's tile source, or a plain-text reason. */
export interface SlideResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

const LEVEL = /^\d{1,2}$/;
const COLUMN_ROW = /^(\d{1,9})_(\d{1,9})$/;

/**
 * The answer to `GET .../tiles/{level}/{column}_{row}` for a slide the caller may see: the tile,
 * 400 for a path that is not numbers, or the slide's own status (404 outside the pyramid, 415 a
 * file the viewer cannot show, 502 a slide that cannot be read) with the reason in words.
 * Tiles are private to the session and never change, so the browser may keep them.
 */
export async function slideTileResponse(
  slide: Slide,
  level: string,
  columnRow: string,
): Promise<SlideResponse> {
  const tile = COLUMN_ROW.exec(columnRow);
  if (!LEVEL.test(level) || !tile)
    return textResponse(
      400,
      `a tile is named by its level and its column_row, as 2/10_4, not ${JSON.stringify(`${level}/${columnRow}`.slice(0, 40))}`,
    );
  try {
    const { contentType, body } = await slide.tile(Number(level), Number(tile[1]), Number(tile[2]));
    return {
      status: 200,
      headers: {
        'content-type': contentType,
        'content-length': String(body.length),
        'cache-control': 'private, max-age=3600, immutable',
        'x-content-type-options': 'nosniff',
      },
      body,
    };
  } catch (err) {
    if (err instanceof SlideError) return textResponse(err.status, err.message);
    throw err;
  }
}

/** The slide's tile source, as the page passes it to `showSlide`. */
export function tileSourceResponse(slide: Slide): SlideResponse {
  const body = Buffer.from(JSON.stringify(slide.tileSource()));
  return {
    status: 200,
    headers: {
      'content-type': 'application/json',
      'content-length': String(body.length),
      'cache-control': 'private, no-cache',
      'x-content-type-options': 'nosniff',
    },
    body,
  };
}

/** A reason in words, never kept by a cache. */
export function textResponse(status: number, message: string): SlideResponse {
  const body = Buffer.from(message);
  return {
    status,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': String(body.length),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    },
    body,
  };
}
