// Reads a DICOM series with ITK's GDCM reader (itk-wasm), the independent reference for the
// converter's DICOM support. Input on stdin: { "files": [paths] }. Output like itk-image.mjs,
// with the voxels as numbers, since GDCM picks its own pixel type after rescaling.
import { readImageDicomFileSeriesNode } from '@itk-wasm/dicom';

const input = JSON.parse(
  await new Promise((resolve) => {
    let text = '';
    process.stdin.on('data', (chunk) => (text += chunk));
    process.stdin.on('end', () => resolve(text));
  }),
);
const { outputImage } = await readImageDicomFileSeriesNode({
  inputImages: input.files,
  singleSortedSeries: false,
});
process.stdout.write(
  JSON.stringify({
    size: outputImage.size,
    spacing: outputImage.spacing,
    origin: outputImage.origin,
    direction: Array.from(outputImage.direction),
    componentType: outputImage.imageType.componentType,
    values: Array.from(outputImage.data),
  }),
);
