// The independent reader and writer of the conversion tests: ITK (itk-wasm), run in its own
// process because it is an ES module. Commands, JSON on stdin:
//   { "write": path, "image": { size, spacing, origin, direction, componentType, components, data (base64) } }
//   { "read": path }  -> the same shape on stdout
import { readImageNode, writeImageNode } from '@itk-wasm/image-io';

const ARRAYS = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  uint64: BigUint64Array,
  int64: BigInt64Array,
  float32: Float32Array,
  float64: Float64Array,
};

const input = JSON.parse(
  await new Promise((resolve) => {
    let text = '';
    process.stdin.on('data', (chunk) => (text += chunk));
    process.stdin.on('end', () => resolve(text));
  }),
);

if (input.write) {
  const spec = input.image;
  const bytes = Buffer.from(spec.data, 'base64');
  const Array_ = ARRAYS[spec.componentType];
  const data = new Array_(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  await writeImageNode(
    {
      imageType: {
        dimension: spec.size.length,
        componentType: spec.componentType,
        pixelType: spec.components === 1 ? 'Scalar' : spec.components === 3 ? 'RGB' : 'VariableLengthVector',
        components: spec.components,
      },
      name: 'image',
      origin: spec.origin,
      spacing: spec.spacing,
      direction: new Float64Array(spec.direction),
      size: spec.size,
      data,
      metadata: new Map(),
    },
    input.write,
    { useCompression: Boolean(input.compress) },
  );
  process.stdout.write('{}');
} else {
  const image = await readImageNode(input.read);
  process.stdout.write(
    JSON.stringify({
      size: image.size,
      spacing: image.spacing,
      origin: image.origin,
      direction: Array.from(image.direction),
      componentType: image.imageType.componentType,
      components: image.imageType.components,
      data: Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength).toString('base64'),
    }),
  );
}
