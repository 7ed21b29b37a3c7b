import { dicomSlice } from '../packages/image-io/test/helpers/dicom-files';

/** The study benches' CT: 500 slices of 512 x 512, 0.7 x 0.7 x 1.25 mm, about 262 MB as DICOM. */
export const CT_SIZE = [512, 512, 500] as const;

/**
 * Slice `k` of the CT as one DICOM file (explicit VR little endian, int16): a disc of soft tissue
 * in air with noise, as the conversion bench makes it, so that compression finds what a CT has.
 */
export function ctSlice(k: number, seriesUid = '1.2.826.0.1.3680043.8.498.99'): Buffer {
  const [columns, rows] = CT_SIZE;
  const perSlice = columns * rows;
  const pixels = new Int16Array(perSlice);
  for (let i = 0, v = k; i < perSlice; i++) {
    v = (v * 1103515245 + 12345) & 0x7fffffff;
    const x = i % columns;
    const y = Math.floor(i / columns);
    pixels[i] = ((x - 256) ** 2 + (y - 256) ** 2 < 200 ** 2 ? 40 : -1000) + (v % 60) - 30;
  }
  return dicomSlice({
    seriesUid,
    rows,
    columns,
    position: [-179.2, -179.2, -300 + 1.25 * k],
    orientation: [1, 0, 0, 0, 1, 0],
    pixelSpacing: [0.7, 0.7],
    pixels,
    instance: k + 1,
    rescaleIntercept: 0,
  });
}
