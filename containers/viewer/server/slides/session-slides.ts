import { openSlide, OpenSlideOptions, Slide } from './open-slide';
import { SlideError } from './slide-error';
import { SlideResponse, slideTileResponse, textResponse, tileSourceResponse } from './slide-response';

/**
 * The slides of one viewer session, each opened once, on its first request, through the signed
 * URL the session's credential carries. An image that is not a slide of the session gets 404,
 * the same answer as one that does not exist; a slide that failed to open is tried again.
 */
export class SessionSlides {
  private readonly opened = new Map<string, Promise<Slide>>();

  /**
   * @param slideUrl the signed URL of a slide of the session by its image id; undefined for any
   * other id (another user's image, a volume, a made-up id)
   */
  constructor(
    private readonly slideUrl: (imageId: string) => string | undefined,
    private readonly options: OpenSlideOptions = {},
  ) {}

  /** `GET .../slides/{imageId}`: what the page passes to `showSlide`. */
  async tileSource(imageId: string): Promise<SlideResponse> {
    return this.withSlide(imageId, async (slide) => tileSourceResponse(slide));
  }

  /** `GET .../slides/{imageId}/tiles/{level}/{columnRow}`: one tile. */
  async tile(imageId: string, level: string, columnRow: string): Promise<SlideResponse> {
    return this.withSlide(imageId, (slide) => slideTileResponse(slide, level, columnRow));
  }

  private async withSlide(
    imageId: string,
    answer: (slide: Slide) => Promise<SlideResponse>,
  ): Promise<SlideResponse> {
    const url = this.slideUrl(imageId);
    if (url === undefined) return textResponse(404, 'there is no such slide in this session');
    let slide = this.opened.get(imageId);
    if (!slide) {
      slide = openSlide(url, this.options);
      this.opened.set(imageId, slide);
      slide.catch(() => this.opened.delete(imageId));
    }
    try {
      return await answer(await slide);
    } catch (err) {
      if (err instanceof SlideError) return textResponse(err.status, err.message);
      throw err;
    }
  }
}
