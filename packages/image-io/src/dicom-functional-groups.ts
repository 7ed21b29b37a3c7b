import * as dicomParser from 'dicom-parser';
import { reject } from './rejection';

/** Functional group macros of enhanced multi-frame objects (PS3.3 C.7.6.16), by sequence tag. */
export const FUNCTIONAL_GROUP = {
  pixelMeasures: 'x00289110',
  planePosition: 'x00209113',
  planeOrientation: 'x00209116',
  pixelValueTransformation: 'x00289145',
  frameVoiLut: 'x00289132',
  frameContent: 'x00209111',
  conversionSource: 'x00209172',
} as const;

/**
 * Where one frame's attributes are found: in its own item of the Per-frame Functional Groups
 * Sequence, else in the Shared Functional Groups Sequence, else (classic files) at the top level.
 * Returns, for a macro, the data set that holds its attributes.
 */
export type FrameAttributes = (macro: string) => dicomParser.DataSet;

export function frameAttributes(data: dicomParser.DataSet, frames: number): FrameAttributes[] {
  const shared = data.elements.x52009229?.items?.[0]?.dataSet;
  const perFrame = data.elements.x52009230?.items;
  if (perFrame && perFrame.length !== frames) {
    reject(`the file has ${frames} frames but ${perFrame.length} per-frame functional groups`);
  }
  const macroIn = (holder: dicomParser.DataSet | undefined, macro: string) =>
    holder?.elements[macro]?.items?.[0]?.dataSet;
  return Array.from({ length: frames }, (_, i) => {
    const own = perFrame?.[i]?.dataSet;
    return (macro: string) => macroIn(own, macro) ?? macroIn(shared, macro) ?? data;
  });
}

/** True for enhanced multi-frame objects, whose geometry lives in functional groups. */
export function hasFunctionalGroups(data: dicomParser.DataSet): boolean {
  return data.elements.x52009230 !== undefined || data.elements.x52009229 !== undefined;
}
