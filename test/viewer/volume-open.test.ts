import { Readable } from 'node:stream';
import { openVolume, renderView, VolumeReadError } from '../../containers/viewer/server/volume';
import { chunked, firstWrongVoxel, loaded, pixel, syntheticMha, view, voxelBytes } from './volume-fixtures';

/** Values that compress poorly, so a stream's bytes arrive over many chunks. */
const noisy = (x: number, y: number, z: number) => ((x * 7919 + y * 104729 + z * 1299709) % 2000) - 1000;

describe('openVolume', () => {
  test('reads geometry, units and every voxel of a CT fed in chunks of 1000 bytes', async () => {
    const spec = {
      size: [32, 24, 10],
      spacing: [0.5, 0.75, 2],
      origin: [-10, 20.5, 3],
      axes: [
        [0, 1, 0],
        [-1, 0, 0],
        [0, 0, 1],
      ],
      metadata: { Modality: 'CT' },
      value: noisy,
    };
    const volume = await loaded(await syntheticMha(spec));
    expect(volume.geometry).toEqual({
      size: [32, 24, 10],
      spacing: [0.5, 0.75, 2],
      origin: [-10, 20.5, 3],
      direction: spec.axes,
      timepoints: 1,
      units: 'HU',
    });
    expect(volume.voxelType).toBe('int16');
    expect(volume.voxels).toBeInstanceOf(Int16Array);
    expect(firstWrongVoxel(volume, spec)).toBeUndefined();
    expect(volume.value([3, 5, 7])).toBe(noisy(3, 5, 7));
    expect(volume.loadedSlices()).toBe(10);
  });

  test('an image without Modality CT is in image units', async () => {
    const volume = await loaded(
      await syntheticMha({ size: [4, 4, 2], metadata: { Modality: 'MR' }, value: noisy }),
    );
    expect(volume.geometry.units).toBe('image units');
  });

  test('shows its first slices before the rest of the stream has arrived', async () => {
    const file = await syntheticMha({ size: [64, 64, 40], value: noisy });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let sent = 0;
    async function* halted() {
      for await (const chunk of chunked(file)) {
        if (sent >= file.length / 2) await gate;
        sent += chunk.length;
        yield chunk;
      }
    }
    const progress: number[] = [];
    const volume = await openVolume(halted(), { onProgress: (bytes, total) => progress.push(bytes / total) });
    expect(volume.geometry.size).toEqual([64, 64, 40]);
    // Half the file has been sent and no more will be: the slices it holds appear as they inflate
    // (were voxels held back until the end, this would wait until the test times out).
    while (volume.loadedSlices() <= 5) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(sent).toBeLessThan(file.length * 0.6);

    const slices = volume.loadedSlices();
    expect(slices).toBeLessThan(40);
    expect(progress.at(-1)).toBeLessThan(1);
    // A slice that has arrived renders its values; one that has not renders zeros, not an error.
    const window = { width: 2000, level: 0 };
    const vp = { width: 64, height: 64 };
    const first = renderView(volume, view({ position: [0, 0, 0], window, viewport: vp }));
    expect(pixel(first, 3, 2)[0]).toBe(Math.round(((noisy(3, 2, 0) + 1000) * 255) / 2000));
    const last = renderView(volume, view({ position: [0, 0, 39], window, viewport: vp }));
    expect(pixel(last, 3, 2)[0]).toBe(Math.round((1000 * 255) / 2000));

    release();
    await volume.done;
    expect(volume.loadedSlices()).toBe(40);
    expect(progress.at(-1)).toBe(1);
    expect(volume.value([3, 2, 39])).toBe(noisy(3, 2, 39));
  });

  test('reads a volume the converter compressed in several pieces', async () => {
    // 4.2 MB of voxels: two of parallel-deflate's 4 MiB pieces, joined by a sync flush.
    const spec = { size: [128, 128, 130], value: noisy };
    const volume = await openVolume(chunked(await syntheticMha(spec), 64 * 1024));
    await volume.done;
    expect(firstWrongVoxel(volume, spec)).toBeUndefined();
  });

  test('reads uncompressed, big-endian, 2D and 4D images', async () => {
    const body = voxelBytes({ size: [3, 2], type: 'uint16', value: (x, y) => 300 * x + y }).swap16();
    const header = [
      'ObjectType = Image',
      'NDims = 2',
      'BinaryData = True',
      'BinaryDataByteOrderMSB = True',
      'CompressedData = False',
      'ElementSpacing = 0.5 0.25',
      'DimSize = 3 2',
      'ElementType = MET_USHORT',
      'ElementDataFile = LOCAL',
      '',
    ].join('\n');
    const flat = await loaded(Buffer.concat([Buffer.from(header), body]));
    expect(flat.geometry.size).toEqual([3, 2, 1]);
    expect(flat.geometry.spacing).toEqual([0.5, 0.25, 1]);
    expect(flat.value([2, 1, 0])).toBe(601);

    const timed = await loaded(
      await syntheticMha({
        size: [4, 3, 2, 3],
        spacing: [1, 1, 2, 0.5],
        value: (x, y, z, t) => x + 10 * y + 100 * z + 1000 * t,
      }),
    );
    expect(timed.geometry.size).toEqual([4, 3, 2]);
    expect(timed.geometry.spacing).toEqual([1, 1, 2]);
    expect(timed.geometry.timepoints).toBe(3);
    expect(timed.loadedSlices()).toBe(2);
    expect(timed.value([3, 2, 1], 2)).toBe(2123);
  });

  test('places 64-bit, float and big-endian voxels exactly in the bricks the volume keeps', async () => {
    const size = [16, 24, 8];
    const values = {
      int64: (x: number, y: number, z: number) => -5000 + x + 37 * y + 1000 * z,
      uint64: (x: number, y: number, z: number) => 2 ** 40 + x + 37 * y + 1000 * z,
      float64: (x: number, y: number, z: number) => -5000 + x * 1.5 + 37 * y + 1000 * z,
      float32: (x: number, y: number, z: number) => -5000 + x * 1.5 + 37 * y + 1000 * z,
      int8: (x: number, y: number) => x - y,
    };
    for (const type of ['int64', 'uint64', 'float64', 'float32', 'int8'] as const) {
      const spec = { size, type, value: values[type] };
      const volume = await openVolume(chunked(await syntheticMha(spec), 333));
      await volume.done;
      expect([type, firstWrongVoxel(volume, spec)]).toEqual([type, undefined]);
    }
    const spec = {
      size: [16, 16, 8],
      type: 'uint16' as const,
      value: (x: number, y: number, z: number) => 4000 * z + 250 * y + x,
    };
    const header =
      'NDims = 3\nDimSize = 16 16 8\nBinaryDataByteOrderMSB = True\nElementType = MET_USHORT\nElementDataFile = LOCAL\n';
    const bigEndian = await openVolume(
      chunked(Buffer.concat([Buffer.from(header), voxelBytes(spec).swap16()]), 777),
    );
    await bigEndian.done;
    expect(firstWrongVoxel(bigEndian, spec)).toBeUndefined();
  });

  test('a truncated compressed stream rejects with a clear message', async () => {
    const file = await syntheticMha({ size: [32, 32, 8], value: noisy });
    const volume = await openVolume(chunked(file.subarray(0, file.length - 500)));
    await expect(volume.done).rejects.toThrow(/cannot read the image: it is truncated/);
    await expect(volume.done).rejects.toBeInstanceOf(VolumeReadError);
  });

  test('truncated uncompressed data rejects, naming the bytes that arrived', async () => {
    const header = 'NDims = 3\nDimSize = 4 4 4\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n';
    const volume = await openVolume(chunked(Buffer.concat([Buffer.from(header), Buffer.alloc(40)])));
    await expect(volume.done).rejects.toThrow(
      'cannot read the image: it is truncated, 40 of 64 voxel bytes arrived',
    );
  });

  test('corrupt compressed data rejects with a clear message', async () => {
    const file = Buffer.from(await syntheticMha({ size: [32, 32, 8], value: noisy }));
    const dataStart = file.indexOf('ElementDataFile = LOCAL\n') + 'ElementDataFile = LOCAL\n'.length;
    for (let i = dataStart + 200; i < dataStart + 260; i++) file[i] ^= 0x5a;
    const volume = await openVolume(chunked(file));
    await expect(volume.done).rejects.toThrow(/cannot read the image: its compressed voxel data is corrupt/);
  });

  test('more voxel data than the header declares is refused', async () => {
    const header = 'NDims = 2\nDimSize = 4 4\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n';
    const volume = await openVolume(chunked(Buffer.concat([Buffer.from(header), Buffer.alloc(20)])));
    await expect(volume.done).rejects.toThrow(/holds more voxel data than its DimSize and ElementType give/);
  });

  test('a bad header is refused before any voxel, naming what is wrong', async () => {
    const open = (header: string) => openVolume(chunked(Buffer.from(header)));
    await expect(open('')).rejects.toThrow('cannot read the image: it is empty');
    await expect(open('NDims = 3\nDimSize = 4 4\n')).rejects.toThrow(/ends inside the header/);
    await expect(
      open('NDims = 3\nDimSize = 4 4\nElementType = MET_SHORT\nElementDataFile = LOCAL\n'),
    ).rejects.toThrow('cannot read the image: DimSize = 4 4 should be 3 numbers');
    await expect(open('NDims = 5\nElementDataFile = LOCAL\n')).rejects.toThrow(
      /NDims = 5; images of 2, 3 or 4/,
    );
    await expect(
      open('NDims = 2\nDimSize = 2 2\nElementType = MET_SHORT\nElementDataFile = other.raw\n'),
    ).rejects.toThrow(/only .mha with its data inline/);
    await expect(
      open('NDims = 2\nDimSize = 2 2\nElementType = MET_STRING\nElementDataFile = LOCAL\n'),
    ).rejects.toThrow('cannot read the image: ElementType MET_STRING is not supported');
  });

  test('closing a volume ends its download and rejects what waits for it', async () => {
    const file = await syntheticMha({ size: [32, 32, 8], value: noisy });
    async function* stalled() {
      yield file.subarray(0, 1000);
      await new Promise(() => undefined);
    }
    const body = Readable.from(stalled());
    const volume = await openVolume(body);
    volume.close();
    await expect(volume.done).rejects.toThrow('cannot read the image: reading was stopped');
    expect(body.destroyed).toBe(true);
  });

  test('a download that fails part way rejects, saying so', async () => {
    const file = await syntheticMha({ size: [32, 32, 8], value: noisy });
    async function* failing() {
      yield file.subarray(0, 1000);
      throw new Error('socket hang up');
    }
    const volume = await openVolume(failing());
    await expect(volume.done).rejects.toThrow(
      /^cannot read the image: its download failed \(socket hang up\)$/,
    );
  });
});
