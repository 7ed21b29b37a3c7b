import { createHash } from 'node:crypto';
import { Socket, SocketKind } from '../algorithms/algorithm-record';
import type { JobManifest, ManifestInput } from './job-manifest';

/**
 * A socket as grand-challenge's ComponentInterfaceSerializer writes it, fields in its order.
 * The platform keeps no title, description, default, overlay segments or look-up table for a
 * socket, so those carry grand-challenge's values for a socket that has none of them.
 */
export interface InputsJsonSocket {
  readonly title: string;
  readonly description: string;
  readonly slug: string;
  readonly kind: string;
  readonly pk: number;
  readonly default_value: null;
  readonly super_kind: 'Image' | 'File' | 'Value';
  readonly relative_path: string;
  readonly overlay_segments: readonly never[];
  readonly look_up_table: null;
}

/**
 * One entry of `/input/inputs.json` as grand-challenge's ComponentInterfaceValueSerializer
 * writes it: `socket` for algorithms from its current template, `interface` (the same object)
 * for older ones, then exactly one of `value`, `file` or `image`.
 */
export interface InputsJsonEntry {
  readonly socket: InputsJsonSocket;
  readonly interface: InputsJsonSocket;
  readonly value: unknown;
  readonly file: string | null;
  readonly image: { readonly pk: string; readonly name: string } | null;
  readonly pk: number;
}

/**
 * Each kind by grand-challenge's name for it (`get_kind_display()`). A json socket takes any
 * JSON value ("Anything"); png and jpeg are grand-challenge's thumbnail kinds; txt has no
 * grand-challenge kind and is named as its file kinds are.
 */
export const GRAND_CHALLENGE_KINDS: Readonly<Record<SocketKind, string>> = {
  image: 'Image',
  json: 'Anything',
  csv: 'CSV file',
  zip: 'ZIP file',
  pdf: 'PDF file',
  png: 'Thumbnail png',
  jpeg: 'Thumbnail jpg',
  txt: 'TXT file',
};

/**
 * grand-challenge lists values (its `sort_civs`) by slug within groups: JSON values, then
 * thumbnails, then other files, then images.
 */
const LISTING_GROUP: Readonly<Record<SocketKind, number>> = {
  json: 0,
  png: 1,
  jpeg: 1,
  csv: 2,
  zip: 2,
  pdf: 2,
  txt: 2,
  image: 3,
};

function superKind(kind: SocketKind): InputsJsonSocket['super_kind'] {
  if (kind === 'image') return 'Image';
  return kind === 'json' ? 'Value' : 'File';
}

/**
 * A socket's number: grand-challenge's slugs are unique and each names one numbered socket,
 * so the same slug always has the same number here too.
 */
export function socketPk(slug: string): number {
  return createHash('sha256').update(slug).digest().readUInt32BE(0);
}

export function inputsJsonSocket(socket: Socket): InputsJsonSocket {
  return {
    title: socket.slug,
    description: '',
    slug: socket.slug,
    kind: GRAND_CHALLENGE_KINDS[socket.kind],
    pk: socketPk(socket.slug),
    default_value: null,
    super_kind: superKind(socket.kind),
    relative_path: socket.relativePath,
    overlay_segments: [],
    look_up_table: null,
  };
}

function entry(input: ManifestInput, pk: number): InputsJsonEntry {
  const socket = inputsJsonSocket(input.socket);
  const kind = input.socket.kind;
  // A JSON value too large to keep inline is a file, as grand-challenge keeps large values.
  const isFile = kind !== 'image' && (kind !== 'json' || input.key !== undefined);
  return {
    socket,
    interface: socket,
    value: kind === 'json' ? (input.value ?? null) : null,
    // grand-challenge gives the URL of its stored copy, whose last segment is the file's name
    // (the socket's path's last segment); here the copy is in the container already.
    file: isFile ? `/input/${input.path}` : null,
    image: kind === 'image' && input.image ? { pk: input.image.pk, name: input.image.name } : null,
    pk,
  };
}

/**
 * Values as grand-challenge serializes a list of them (its ComponentInterfaceValueSerializer):
 * numbered from `firstPk` in the order given, listed in its order.
 */
export function interfaceValues(values: readonly ManifestInput[], firstPk = 1): InputsJsonEntry[] {
  const entries = values.map((input, index) => ({ input, entry: entry(input, firstPk + index) }));
  const bySlug = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return entries
    .sort(
      (a, b) =>
        LISTING_GROUP[a.input.socket.kind] - LISTING_GROUP[b.input.socket.kind] ||
        bySlug(a.input.socket.slug, b.input.socket.slug),
    )
    .map(({ entry }) => entry);
}

/** `/input/inputs.json` as grand-challenge writes it: one entry per input, in its order. */
export function inputsJson(manifest: JobManifest): InputsJsonEntry[] {
  return interfaceValues(manifest.inputs);
}
