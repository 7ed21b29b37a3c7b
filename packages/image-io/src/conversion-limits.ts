/**
 * Bounds on what one upload may make the converter do, so that a hostile or broken file cannot
 * exhaust memory or time: every reader checks its numbers against these before allocating.
 */
export interface ConversionLimits {
  /** Largest decompressed voxel data of one image. */
  readonly maxImageBytes: number;
  /** Largest number of voxels along any axis. */
  readonly maxAxisLength: number;
  /** Largest text header (MetaImage, NRRD). */
  readonly maxHeaderBytes: number;
  /** Most values per voxel (RGBA is 4). */
  readonly maxComponents: number;
  /** Most bytes the archives of one upload set may expand to, in all, counted while extracting. */
  readonly maxExtractedBytes: number;
  /** Most entries the archives of one upload set may hold, in all. */
  readonly maxArchiveEntries: number;
}

export const DEFAULT_CONVERSION_LIMITS: ConversionLimits = {
  maxImageBytes: 4 * 1024 ** 3 - 1,
  maxAxisLength: 65_535,
  maxHeaderBytes: 64 * 1024,
  maxComponents: 4,
  maxExtractedBytes: 4 * 1024 ** 3 - 1,
  maxArchiveEntries: 10_000,
};
