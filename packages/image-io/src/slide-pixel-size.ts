import { reject } from './rejection';
import { TiffTags } from './tiff-tags';

/**
 * The slide's pixel size in microns, as the file states it: Aperio's `MPP` in the description,
 * else XResolution in pixels per inch or centimetre. As panimg, a slide that states neither is
 * refused: its pixels would otherwise be given a size nobody measured.
 */
export function slidePixelSize(tags: TiffTags): number {
  const mpp = Number(tags.description?.match(/\|\s*MPP\s*=\s*([0-9.]+)/i)?.[1]);
  if (Number.isFinite(mpp) && mpp > 0) return mpp;
  const { xResolution: x, yResolution: y, resolutionUnit: unit } = tags;
  if (x === undefined || y === undefined)
    reject(
      'the TIFF states no physical pixel size: it has no XResolution and YResolution (nor an Aperio MPP in its description)',
    );
  if (unit !== 2 && unit !== 3)
    reject(
      `the TIFF states no physical pixel size: its ResolutionUnit is ${unit === undefined ? 'missing' : unit === 1 ? 'NONE (1)' : `${unit}, not a unit TIFF defines`}, so XResolution is not per inch or centimetre`,
    );
  if (!(x > 0) || !(y > 0))
    reject(`the TIFF's resolution is not positive (XResolution ${x}, YResolution ${y})`);
  const micronsPerUnit = unit === 2 ? 25_400 : 10_000;
  const [width, height] = [micronsPerUnit / x, micronsPerUnit / y];
  // Slide viewers and the output's one microns-per-pixel figure take square pixels.
  if (Math.abs(width - height) > 1e-6 * Math.max(width, height))
    reject(
      `the TIFF's pixels are not square (${width} x ${height} microns); slides with square pixels are converted`,
    );
  return width;
}
