/** Where an upload set is converted: in the converter function, or in the converter container. */
export type ConversionRoute =
  { readonly converter: 'function' } | { readonly converter: 'container'; readonly why: string };

/** Pictures and slides need libvips (sharp), which only the converter container has. */
const NEEDS_LIBVIPS = /\.(png|jpe?g|tiff?|svs)$/i;

/**
 * Picks the converter for an image's files: the container when any file needs libvips or the
 * set is larger than the function takes (`lambdaMaxSetBytes`, which fits its memory and /tmp).
 * Zip archives are judged by their own names and sizes; pictures found inside one are sent on
 * by the function when it meets them (see `convertImage`).
 */
export function conversionRoute(
  files: readonly { readonly filename: string; readonly size: number }[],
  lambdaMaxSetBytes: number,
): ConversionRoute {
  const picture = files.find((f) => NEEDS_LIBVIPS.test(f.filename));
  if (picture) return { converter: 'container', why: `${picture.filename} needs libvips` };
  const total = files.reduce((sum, f) => sum + f.size, 0);
  if (total > lambdaMaxSetBytes) {
    return { converter: 'container', why: `${total} bytes exceed the function's ${lambdaMaxSetBytes}` };
  }
  return { converter: 'function' };
}
