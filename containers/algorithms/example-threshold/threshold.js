// A threshold segmentation that follows the algorithm contract: it reads the image of its
// image input and the "threshold" value from /input, and writes a mask image and results.json
// to /output. Node's standard library only, so the image needs nothing but Node.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const TYPES = {
  MET_CHAR: Int8Array,
  MET_UCHAR: Uint8Array,
  MET_SHORT: Int16Array,
  MET_USHORT: Uint16Array,
  MET_INT: Int32Array,
  MET_UINT: Uint32Array,
  MET_FLOAT: Float32Array,
  MET_DOUBLE: Float64Array,
};

/** Reads a MetaImage with its data in the same file, compressed or not. */
function readMetaImage(file) {
  const bytes = fs.readFileSync(file);
  const end = bytes.indexOf('ElementDataFile = LOCAL\n');
  if (end < 0) throw new Error(`${file}: only .mha files with local data are read`);
  const header = Object.fromEntries(
    bytes
      .subarray(0, end)
      .toString('latin1')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => line.split('=').map((part) => part.trim())),
  );
  let data = bytes.subarray(end + 'ElementDataFile = LOCAL\n'.length);
  if (header.CompressedData === 'True') data = zlib.inflateSync(data);
  const Type = TYPES[header.ElementType];
  if (!Type) throw new Error(`${file}: element type ${header.ElementType} is not read`);
  const aligned = Buffer.from(data);
  return {
    header,
    voxels: new Type(aligned.buffer, aligned.byteOffset, aligned.length / Type.BYTES_PER_ELEMENT),
  };
}

function writeMask(file, header, mask) {
  const keep = ['NDims', 'TransformMatrix', 'Offset', 'CenterOfRotation', 'ElementSpacing', 'DimSize'];
  const data = zlib.deflateSync(mask);
  const lines = [
    'ObjectType = Image',
    ...keep.filter((key) => header[key] !== undefined).map((key) => `${key} = ${header[key]}`),
    'BinaryData = True',
    'BinaryDataByteOrderMSB = False',
    'CompressedData = True',
    `CompressedDataSize = ${data.length}`,
    'ElementType = MET_UCHAR',
    'ElementDataFile = LOCAL',
  ];
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, Buffer.concat([Buffer.from(`${lines.join('\n')}\n`, 'latin1'), data]));
}

// Each entry names its socket as grand-challenge's current template reads it (`interface` is the older name).
const inputs = JSON.parse(fs.readFileSync('/input/inputs.json', 'utf8'));
const imageInput = inputs.find((input) => input.socket.super_kind === 'Image');
if (!imageInput) throw new Error('no image input in /input/inputs.json');
const folder = path.join('/input', imageInput.socket.relative_path);
const [imageFile] = fs.readdirSync(folder).filter((name) => name.endsWith('.mha'));
if (!imageFile) throw new Error(`no .mha image in ${folder}`);
const thresholdInput = inputs.find((input) => input.socket.slug === 'threshold');
const threshold = thresholdInput ? Number(thresholdInput.value) : 0;

const { header, voxels } = readMetaImage(path.join(folder, imageFile));
const mask = Buffer.alloc(voxels.length);
let foreground = 0;
for (let i = 0; i < voxels.length; i++) {
  if (voxels[i] >= threshold) {
    mask[i] = 1;
    foreground++;
  }
}
writeMask('/output/images/mask/mask.mha', header, mask);
fs.writeFileSync(
  '/output/results.json',
  JSON.stringify({ threshold, voxels: voxels.length, foreground, fraction: foreground / voxels.length }),
);
console.log(`${foreground} of ${voxels.length} voxels at or above ${threshold}`);
