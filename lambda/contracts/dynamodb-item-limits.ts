/**
 * DynamoDB's limits on one item, and its measure of an item, as AWS documents them ("Item sizes
 * and formats", "Quotas"): handlers check what they are about to write, so that an item too large
 * or too deep is refused up front with a clear answer instead of failing half-way, and local mode
 * holds the embedded DynamoDB to the same limits.
 */

/** 400 KB: attribute names and values together, UTF-8. */
export const MAX_ITEM_BYTES = 400 * 1024;

/** Levels of nesting in an attribute: a scalar is one level, each list or map around it one more. */
export const MAX_NESTING_LEVELS = 32;

/** An attribute value on the wire (DynamoDB JSON), as the embedded DynamoDB receives it. */
export interface WireAttributeValue {
  readonly S?: string;
  readonly N?: string;
  readonly B?: string;
  readonly SS?: readonly string[];
  readonly NS?: readonly string[];
  readonly BS?: readonly string[];
  readonly M?: Readonly<Record<string, WireAttributeValue>>;
  readonly L?: readonly WireAttributeValue[];
  readonly NULL?: boolean;
  readonly BOOL?: boolean;
}

const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * Bytes of a number. AWS gives "1 byte per two significant digits, plus 1"; the digit pairs are
 * aligned on the decimal point and negatives take one byte more, as dynalite measures DynamoDB.
 */
export function numberSize(text: string): number {
  const trimmed = text.trim();
  const negative = trimmed.startsWith('-');
  const [mantissa, exponent = '0'] = trimmed.replace(/^[-+]/, '').toLowerCase().split('e');
  const [whole, fraction = ''] = mantissa.split('.');
  const digits = `${whole}${fraction}`;
  const leadingZeros = digits.length - digits.replace(/^0+/, '').length;
  const significant = digits.replace(/^0+/, '').replace(/0+$/, '');
  if (significant.length === 0) return 1;
  const pointAt = whole.length - 1 + Number(exponent) - leadingZeros;
  const aligned = significant.length % 2 === 0 && pointAt % 2 === 0 ? 1 : 0;
  return 1 + Math.ceil(significant.length / 2) + aligned + (negative ? 1 : 0);
}

/**
 * Bytes of one item written through the document client (`@aws-sdk/lib-dynamodb`, undefined
 * values left out): strings, numbers, booleans, null, arrays (lists), sets, binary and objects
 * (maps), each counted as DynamoDB counts its attribute value.
 */
export function itemSize(item: object): number {
  let size = 0;
  for (const [name, value] of Object.entries(item as Record<string, unknown>)) {
    if (value !== undefined) size += utf8Bytes(name) + valueSize(value);
  }
  return size;
}

function valueSize(value: unknown): number {
  if (typeof value === 'string') return utf8Bytes(value);
  if (typeof value === 'number' || typeof value === 'bigint') return numberSize(String(value));
  if (typeof value === 'boolean' || value === null) return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) return [...(value as Set<unknown>)].reduce<number>((s, v) => s + valueSize(v), 0);
  if (Array.isArray(value)) {
    return value.reduce<number>((sum, element) => sum + 1 + valueSize(element), 3);
  }
  if (typeof value === 'object') {
    let size = 3;
    for (const [name, element] of Object.entries(value)) {
      if (element !== undefined) size += 1 + utf8Bytes(name) + valueSize(element);
    }
    return size;
  }
  return 0;
}

/**
 * Levels of a value written through the document client, counted no further than `stopAfter`
 * (so a hostile value nested a million deep costs no more than one at the limit).
 */
export function nestingLevels(value: unknown, stopAfter = MAX_NESTING_LEVELS + 1): number {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array || value instanceof Set) {
    return 1;
  }
  if (stopAfter <= 1) return 1;
  let deepest = 0;
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    deepest = Math.max(deepest, nestingLevels(child, stopAfter - 1));
    if (deepest >= stopAfter - 1) break;
  }
  return 1 + deepest;
}

/** Levels of an item: those of its deepest attribute. */
export function itemNestingLevels(item: object): number {
  return Math.max(0, ...Object.values(item as Record<string, unknown>).map((value) => nestingLevels(value)));
}

/** Bytes of an item in DynamoDB JSON, as the service measures it. */
export function wireItemSize(item: Readonly<Record<string, WireAttributeValue>>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += utf8Bytes(name) + wireValueSize(value);
  return size;
}

function wireValueSize(value: WireAttributeValue): number {
  if (value.S !== undefined) return utf8Bytes(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return Buffer.from(value.B, 'base64').length;
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + utf8Bytes(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + numberSize(n), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + Buffer.from(b, 'base64').length, 0);
  if (value.L !== undefined) return value.L.reduce((sum, element) => sum + 1 + wireValueSize(element), 3);
  if (value.M !== undefined) {
    return Object.entries(value.M).reduce(
      (sum, [name, element]) => sum + 1 + utf8Bytes(name) + wireValueSize(element),
      3,
    );
  }
  return 1;
}

/** Levels of an attribute value in DynamoDB JSON, counted no further than `stopAfter`. */
export function wireNestingLevels(value: WireAttributeValue, stopAfter = MAX_NESTING_LEVELS + 1): number {
  const children = value.L ?? (value.M ? Object.values(value.M) : undefined);
  if (!children || stopAfter <= 1) return 1;
  let deepest = 0;
  for (const child of children) {
    deepest = Math.max(deepest, wireNestingLevels(child, stopAfter - 1));
    if (deepest >= stopAfter - 1) break;
  }
  return 1 + deepest;
}
