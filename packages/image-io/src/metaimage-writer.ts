import { PieceDeflater } from './parallel-deflate';
import { COMPONENT_TYPES, Volume } from './volume';

/** Numbers as ITK writes them: shortest exact decimal. */
const format = (values: readonly number[]) => values.map((v) => (Object.is(v, -0) ? 0 : v)).join(' ');

/**
 * Writes one `.mha` file: geometry exact, voxels zlib-compressed, and only the whitelisted keys
 * the readers kept in `volume.metadata`.
 */
export async function writeMetaImage(volume: Volume): Promise<Buffer> {
  const dims = volume.size.length;
  const lines = (compressedSize: number) => [
    'ObjectType = Image',
    `NDims = ${dims}`,
    'BinaryData = True',
    'BinaryDataByteOrderMSB = False',
    'CompressedData = True',
    `CompressedDataSize = ${compressedSize}`,
    `TransformMatrix = ${format(volume.axes.flat())}`,
    `Offset = ${format(volume.origin)}`,
    `CenterOfRotation = ${format(new Array(dims).fill(0))}`,
    `ElementSpacing = ${format(volume.spacing)}`,
    `DimSize = ${volume.size.join(' ')}`,
    ...(volume.components > 1 ? [`ElementNumberOfChannels = ${volume.components}`] : []),
    ...Object.entries(volume.metadata).map(([key, value]) => `${key} = ${value.replace(/[\r\n]/g, ' ')}`),
    `ElementType = ${COMPONENT_TYPES[volume.componentType].metaType}`,
    'ElementDataFile = LOCAL',
  ];
  const stream = volume.voxelStream ?? new PieceDeflater(volume.data);
  return stream.finish((size) => Buffer.from(`${lines(size).join('\n')}\n`, 'latin1'));
}
