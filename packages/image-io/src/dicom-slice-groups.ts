import { DicomSlice } from './dicom-slice';

/** Slices that become one volume, with the name its reasons give it. */
export interface SliceGroup {
  readonly label: string;
  readonly slices: readonly DicomSlice[];
}

/** A file whose instance was already read from another: refused, naming that one. */
export interface DuplicateFile {
  readonly file: string;
  readonly reason: string;
}

const normalOf = (o: readonly number[]) => [
  o[1] * o[5] - o[2] * o[4],
  o[2] * o[3] - o[0] * o[5],
  o[0] * o[4] - o[1] * o[3],
];

/**
 * Sorts the slices of an upload into volumes. A file holding an instance (SOPInstanceUID) already
 * read from another file is a copy, not a second time point: it is left out and named; so is an
 * enhanced file whose frames each name an instance of the upload they were converted from. The others
 * are grouped by SeriesInstanceUID and SOP class (an enhanced volume beside the slices it was made
 * of stays apart from them) and, where they differ within a series, by orientation and size; a
 * file with no place in the patient stands alone. Series of one stack (StackID, in one frame of
 * reference), each over the same positions, are the time points of one 4D volume, as panimg
 * groups them: some scanners write one series per time point.
 */
export function groupSlices(slices: readonly DicomSlice[]): {
  groups: SliceGroup[];
  duplicates: DuplicateFile[];
} {
  const { kept, duplicates } = withoutCopies(slices);
  const bySeries = new Map<string, DicomSlice[]>();
  for (const slice of kept) {
    const key = slice.placeless ? `file|${slice.file}` : `${slice.seriesUid}|${geometryKey(slice)}`;
    const group = bySeries.get(key);
    if (group) group.push(slice);
    else bySeries.set(key, [slice]);
  }
  const groups: SliceGroup[] = [];
  const stacks = new Map<string, DicomSlice[][]>();
  for (const series of bySeries.values()) {
    const stack = series[0].stack;
    if (series[0].placeless || !stack || series.some((s) => s.stack !== stack)) {
      groups.push({ label: `series ${series[0].seriesUid}`, slices: series });
      continue;
    }
    const key = `${stack}|${geometryKey(series[0])}`;
    stacks.set(key, [...(stacks.get(key) ?? []), series]);
  }
  for (const members of stacks.values()) {
    const positions = members.map(positionsOf);
    if (members.length > 1 && positions.every((p) => p === positions[0])) {
      const stackId = members[0][0].stack!.slice(members[0][0].stack!.lastIndexOf('|') + 1);
      groups.push({
        label: `stack ${stackId} (${members.length} series, one per time point)`,
        slices: members.flat(),
      });
    } else {
      for (const series of members) groups.push({ label: `series ${series[0].seriesUid}`, slices: series });
    }
  }
  return { groups, duplicates };
}

/** What slices of one volume share beside their series: SOP class, orientation and size. */
function geometryKey(slice: DicomSlice): string {
  return [
    slice.sopClass ?? '',
    slice.orientation.map((v) => v.toFixed(4)).join(','),
    slice.rows,
    slice.columns,
  ].join('|');
}

/** The distinct positions of a series along its slice normal, to the micrometre. */
function positionsOf(series: readonly DicomSlice[]): string {
  const normal = normalOf(series[0].orientation);
  const along = series.map((s) => s.position.reduce((sum, v, i) => sum + v * normal[i], 0).toFixed(3));
  return [...new Set(along)].sort().join(',');
}

/**
 * The slices less those of files that repeat instances read from other files: the same
 * SOPInstanceUID, or an enhanced file every frame of which was converted from an instance of
 * another file of the upload (its Conversion Source Attributes).
 */
function withoutCopies(slices: readonly DicomSlice[]): {
  kept: DicomSlice[];
  duplicates: DuplicateFile[];
} {
  const firstFile = new Map<string, string>();
  const copies = new Map<string, string>();
  for (const slice of slices) {
    if (!slice.instanceUid) continue;
    const key = `${slice.instanceUid}|${slice.frame}`;
    const original = firstFile.get(key);
    if (original === undefined) firstFile.set(key, slice.file);
    else if (original !== slice.file && !copies.has(slice.file)) {
      copies.set(
        slice.file,
        `a copy of ${original} (the same SOPInstanceUID ${slice.instanceUid}); the instance is read once, from ${original}`,
      );
    }
  }
  const byFile = new Map<string, DicomSlice[]>();
  for (const slice of slices) byFile.set(slice.file, [...(byFile.get(slice.file) ?? []), slice]);
  for (const [file, frames] of byFile) {
    if (copies.has(file)) continue;
    const sources = frames.map((f) =>
      f.sourceInstanceUid ? firstFile.get(`${f.sourceInstanceUid}|0`) : undefined,
    );
    if (!sources.every((s) => s !== undefined && s !== file && !copies.has(s))) continue;
    const named = [...new Set(sources)] as string[];
    const list =
      named.length > 3 ? `${named.slice(0, 3).join(', ')} and ${named.length - 3} more` : named.join(', ');
    copies.set(
      file,
      `made of ${named.length} other files of this upload (${list}), whose instances its frames hold (its Conversion Source Attributes); they are read once, from those files`,
    );
  }
  return {
    kept: slices.filter((s) => !copies.has(s.file)),
    duplicates: [...copies].map(([file, reason]) => ({ file, reason })),
  };
}
