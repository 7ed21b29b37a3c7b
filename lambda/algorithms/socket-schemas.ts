import Ajv, { ValidateFunction } from 'ajv';

/**
 * The JSON Schemas that algorithm authors give their json sockets (draft-07, as grand-challenge
 * checks them), compiled into validators. Each algorithm version has an Ajv instance of its own,
 * which registers no schema by its `$id`: one author's schemas can neither collide with nor
 * change another's. Compiled versions are kept for reuse, the least recently used dropped first.
 */

/**
 * Bounds of the compiled versions a container keeps, whichever is reached first. Measured: an
 * Ajv instance takes at most about 60 KB, and compiled validators about
 * 11 times their schema's JSON (an algorithm's 448 KB of schemas, about 5 MB). 200 instances
 * and 2 MiB of schema JSON thus hold about 12 MB and 23 MB: under 15 % of a 256 MiB function,
 * while every algorithm of a busy hour with schemas of usual size stays compiled.
 */
export const MAX_COMPILED_VERSIONS = 200;
export const MAX_COMPILED_SCHEMA_CHARS = 2 * 1024 * 1024;

interface CompiledVersion {
  readonly ajv: Ajv;
  /** By the schema's JSON text. */
  readonly validators: Map<string, ValidateFunction>;
  chars: number;
}

const compiled = new Map<string, CompiledVersion>();
let compiledChars = 0;

/**
 * Checks schemas against the draft-07 meta-schema, which it compiles once: each instance of its
 * own would compile it again (about 60 ms). It keeps no user schema.
 */
const metaSchemaCheck = new Ajv({ strict: false, addUsedSchema: false });

function newAjv(): Ajv {
  // Unknown keywords are ignored, as grand-challenge's validator ignores them. Schemas are
  // checked against the meta-schema by `compileSchema` first.
  return new Ajv({ strict: false, allErrors: false, addUsedSchema: false, validateSchema: false });
}

/** `schema` compiled in `ajv`, checked against the meta-schema first; Ajv's error when it cannot be. */
function compileSchema(ajv: Ajv, schema: Readonly<Record<string, unknown>>): ValidateFunction {
  if (!metaSchemaCheck.validateSchema(schema)) {
    throw new Error(`schema is invalid: ${metaSchemaCheck.errorsText(metaSchemaCheck.errors)}`);
  }
  return ajv.compile(schema);
}

/** A schema that cannot be compiled: its author's to fix. */
export class SocketSchemaError extends Error {}

/** Why `schema` cannot check values (not a valid draft-07 schema, an unresolvable `$ref`), or undefined. */
export function schemaProblem(schema: Readonly<Record<string, unknown>>): string | undefined {
  try {
    compileSchema(newAjv(), schema);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Checks `value` against `schema`, a socket's schema of the algorithm version `version` (any
 * string naming it, such as `<algorithmId>/<versionId>`): undefined when it matches, else what
 * does not match, with the value named `value`. Throws SocketSchemaError when the schema does not
 * compile.
 */
export function schemaMismatch(
  version: string,
  schema: Readonly<Record<string, unknown>>,
  value: unknown,
): string | undefined {
  const { ajv, validate } = validatorOf(version, schema);
  return validate(value) ? undefined : ajv.errorsText(validate.errors, { dataVar: 'value' });
}

function validatorOf(version: string, schema: Readonly<Record<string, unknown>>) {
  const text = JSON.stringify(schema);
  let entry = compiled.get(version);
  if (entry) {
    compiled.delete(version);
  } else {
    entry = { ajv: newAjv(), validators: new Map(), chars: 0 };
  }
  compiled.set(version, entry);
  let validate = entry.validators.get(text);
  if (!validate) {
    try {
      validate = compileSchema(entry.ajv, JSON.parse(text) as Record<string, unknown>);
    } catch (err) {
      throw new SocketSchemaError((err as Error).message);
    }
    entry.validators.set(text, validate);
    entry.chars += text.length;
    compiledChars += text.length;
    dropLeastRecentlyUsed();
  }
  return { ajv: entry.ajv, validate };
}

/** Drops the least recently used versions until within both bounds, never the one just used. */
function dropLeastRecentlyUsed(): void {
  for (const [version, entry] of compiled) {
    if (compiled.size <= MAX_COMPILED_VERSIONS && compiledChars <= MAX_COMPILED_SCHEMA_CHARS) return;
    if (compiled.size === 1) return;
    compiled.delete(version);
    compiledChars -= entry.chars;
  }
}

/** What is compiled now, for tests and metrics. */
export function compiledSchemaUsage(): { versions: number; schemaChars: number } {
  return { versions: compiled.size, schemaChars: compiledChars };
}
