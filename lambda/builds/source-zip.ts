import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';

/** Past this, a size or offset needs the zip64 fields. */
const ZIP32_MAX = 0xffffffff;
const UTF8_NAMES_AND_DATA_DESCRIPTOR = 0x0808;
const STORED = 0;
/** 1980-01-01 00:00 in MS-DOS form: the same bytes for the same entry, whenever it is written. */
const DOS_TIME = 0;
const DOS_DATE = (1 << 5) | 1;

/**
 * A zip archive of one entry, `name`, holding `body` (`bytes` long) as it is: stored, since what
 * it holds is an archive compressed already. Written as it streams, with the entry's CRC-32 in a
 * data descriptor after its data, and zip64 fields when the entry is 4 GiB or larger. Its length
 * is known before it is read, so it can be uploaded in parts as it is made.
 */
export function zipOneEntry(name: string, body: AsyncIterable<Buffer | Uint8Array>, bytes: number) {
  const fileName = Buffer.from(name, 'utf8');
  const zip64 = bytes >= ZIP32_MAX;
  const localHeader = Buffer.alloc(30 + fileName.length + (zip64 ? 20 : 0));
  localHeader.writeUInt32LE(0x04034b50, 0);
  localHeader.writeUInt16LE(zip64 ? 45 : 20, 4);
  localHeader.writeUInt16LE(UTF8_NAMES_AND_DATA_DESCRIPTOR, 6);
  localHeader.writeUInt16LE(STORED, 8);
  localHeader.writeUInt16LE(DOS_TIME, 10);
  localHeader.writeUInt16LE(DOS_DATE, 12);
  // CRC-32 and sizes follow the data, in its descriptor.
  localHeader.writeUInt32LE(0, 14);
  localHeader.writeUInt32LE(zip64 ? ZIP32_MAX : 0, 18);
  localHeader.writeUInt32LE(zip64 ? ZIP32_MAX : 0, 22);
  localHeader.writeUInt16LE(fileName.length, 26);
  localHeader.writeUInt16LE(zip64 ? 20 : 0, 28);
  fileName.copy(localHeader, 30);
  if (zip64) {
    const extra = 30 + fileName.length;
    localHeader.writeUInt16LE(0x0001, extra);
    localHeader.writeUInt16LE(16, extra + 2);
  }
  const descriptorBytes = zip64 ? 24 : 16;
  const centralOffset = localHeader.length + bytes + descriptorBytes;
  const centralBytes = 46 + fileName.length + (zip64 ? 20 : 0);
  const zip64Offsets = zip64 || centralOffset >= ZIP32_MAX;
  const endBytes = 22 + (zip64Offsets ? 56 + 20 : 0);
  const total = centralOffset + centralBytes + endBytes;

  async function* parts(): AsyncGenerator<Buffer> {
    yield localHeader;
    let crc = 0;
    let seen = 0;
    for await (const chunk of body) {
      const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      crc = crc32(data, crc);
      seen += data.length;
      if (seen > bytes) throw new Error(`the entry runs past the ${bytes} bytes stated`);
      yield data;
    }
    if (seen !== bytes) throw new Error(`the entry ended after ${seen} of the ${bytes} bytes stated`);

    const descriptor = Buffer.alloc(descriptorBytes);
    descriptor.writeUInt32LE(0x08074b50, 0);
    descriptor.writeUInt32LE(crc, 4);
    if (zip64) {
      descriptor.writeBigUInt64LE(BigInt(bytes), 8);
      descriptor.writeBigUInt64LE(BigInt(bytes), 16);
    } else {
      descriptor.writeUInt32LE(bytes, 8);
      descriptor.writeUInt32LE(bytes, 12);
    }
    yield descriptor;

    const central = Buffer.alloc(centralBytes);
    central.writeUInt32LE(0x02014b50, 0);
    // Made by Unix, so that the mode in the external attributes is read.
    central.writeUInt16LE((3 << 8) | (zip64 ? 45 : 20), 4);
    central.writeUInt16LE(zip64 ? 45 : 20, 6);
    central.writeUInt16LE(UTF8_NAMES_AND_DATA_DESCRIPTOR, 8);
    central.writeUInt16LE(STORED, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(zip64 ? ZIP32_MAX : bytes, 20);
    central.writeUInt32LE(zip64 ? ZIP32_MAX : bytes, 24);
    central.writeUInt16LE(fileName.length, 28);
    central.writeUInt16LE(zip64 ? 20 : 0, 30);
    // Comment, disk, internal attributes: none. A regular file, rw-r--r--; its header at offset 0.
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(0, 42);
    fileName.copy(central, 46);
    if (zip64) {
      const extra = 46 + fileName.length;
      central.writeUInt16LE(0x0001, extra);
      central.writeUInt16LE(16, extra + 2);
      central.writeBigUInt64LE(BigInt(bytes), extra + 4);
      central.writeBigUInt64LE(BigInt(bytes), extra + 12);
    }
    yield central;

    const end = Buffer.alloc(endBytes);
    let at = 0;
    if (zip64Offsets) {
      end.writeUInt32LE(0x06064b50, 0);
      end.writeBigUInt64LE(44n, 4);
      end.writeUInt16LE((3 << 8) | 45, 12);
      end.writeUInt16LE(45, 14);
      end.writeBigUInt64LE(1n, 24);
      end.writeBigUInt64LE(1n, 32);
      end.writeBigUInt64LE(BigInt(centralBytes), 40);
      end.writeBigUInt64LE(BigInt(centralOffset), 48);
      end.writeUInt32LE(0x07064b50, 56);
      end.writeBigUInt64LE(BigInt(centralOffset + centralBytes), 64);
      end.writeUInt32LE(1, 72);
      at = 76;
    }
    end.writeUInt32LE(0x06054b50, at);
    end.writeUInt16LE(1, at + 8);
    end.writeUInt16LE(1, at + 10);
    end.writeUInt32LE(centralBytes, at + 12);
    end.writeUInt32LE(zip64Offsets ? ZIP32_MAX : centralOffset, at + 16);
    yield end;
  }

  return { stream: Readable.from(parts(), { objectMode: false }), bytes: total };
}
