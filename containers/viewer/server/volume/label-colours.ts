/**
 * The colour of each label of an overlay: label 0 is transparent, labels 1 to 20 take the 20
 * colours of Sasha Trubetskoy's "List of 20 Simple, Distinct Colors" in order, and later labels
 * (and negative ones) repeat them, so a label has the same colour in every view and session.
 */
export const LABEL_COLOURS: readonly (readonly [number, number, number])[] = [
  [230, 25, 75],
  [60, 180, 75],
  [255, 225, 25],
  [0, 130, 200],
  [245, 130, 48],
  [145, 30, 180],
  [70, 240, 240],
  [240, 50, 230],
  [210, 245, 60],
  [250, 190, 212],
  [0, 128, 128],
  [220, 190, 255],
  [170, 110, 40],
  [255, 250, 200],
  [128, 0, 0],
  [170, 255, 195],
  [128, 128, 0],
  [255, 215, 180],
  [0, 0, 128],
  [128, 128, 128],
];

/** The colour of a label (a fractional label is rounded), or undefined for 0, which is not drawn. */
export function labelColour(label: number): readonly [number, number, number] | undefined {
  const whole = Math.round(label);
  if (whole === 0 || !Number.isFinite(whole)) return undefined;
  const n = LABEL_COLOURS.length;
  return LABEL_COLOURS[(((whole - 1) % n) + n) % n];
}
