import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { defaultPlatformConfig, PlatformConfig, platformConfigSchema } from './platform-config';

/** Context key holding the configuration object (in `cdk.json` or `-c platform='{...}'`). */
export const CONFIG_CONTEXT_KEY = 'platform';
/** Context key naming a JSON file whose settings override `cdk.json`. */
export const CONFIG_FILE_CONTEXT_KEY = 'platformConfigFile';
/** Context keys `platform.<dotted.path>` set one value, e.g. `-c platform.compute.maxVcpus=512`. */
const OVERRIDE_PREFIX = `${CONFIG_CONTEXT_KEY}.`;

export class PlatformConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid platform configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PlatformConfigError';
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/**
 * Builds the configuration from, in rising precedence: the embedded default, the `platform`
 * context object, the file named by `platformConfigFile`, and single `platform.*` keys.
 * Throws a PlatformConfigError naming each bad key and what it allows.
 */
export function loadPlatformConfig(
  context: Record<string, unknown>,
  baseDir = process.cwd(),
): PlatformConfig {
  const layers: JsonObject[] = [];
  const contextObject = context[CONFIG_CONTEXT_KEY];
  if (contextObject !== undefined) {
    layers.push(asObject(parseIfString(contextObject, CONFIG_CONTEXT_KEY), CONFIG_CONTEXT_KEY));
  }
  const file = context[CONFIG_FILE_CONTEXT_KEY];
  if (file !== undefined) {
    layers.push(readConfigFile(String(file), baseDir));
  }
  const overrides: JsonObject = {};
  for (const [key, value] of Object.entries(context)) {
    if (key.startsWith(OVERRIDE_PREFIX)) {
      setPath(overrides, key.slice(OVERRIDE_PREFIX.length).split('.'), parseIfString(value, key));
    }
  }
  layers.push(overrides);

  const merged = layers.reduce<Json>(
    (acc, layer) => deepMerge(acc, layer),
    structuredClone(defaultPlatformConfig),
  );
  const result = platformConfigSchema.safeParse(merged);
  if (!result.success) {
    throw new PlatformConfigError(result.error.issues.map(describeIssue));
  }
  return result.data;
}

/** Origins of local mode's own pages, which the embedded default lists. */
const LOOPBACK_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

/**
 * Refuses a configuration that would deploy into `account` with what only local mode should
 * have: browser origins on this machine (the embedded default), which a deployed API and bucket
 * would then trust, while the deployment's own pages could not read their answers. Synth with no
 * account (offline) is not a deploy, and passes.
 */
export function checkDeployable(config: PlatformConfig, account: string | undefined): void {
  if (account === undefined) return;
  const loopback = config.webOrigins.filter((origin) => LOOPBACK_ORIGIN.test(origin));
  if (loopback.length > 0) {
    throw new PlatformConfigError([
      `webOrigins: names ${loopback.join(', ')}, which only local mode serves; set the origins of the pages that call this deployment (https://...), or [] for none`,
    ]);
  }
}

function readConfigFile(file: string, baseDir: string): JsonObject {
  const resolved = path.resolve(baseDir, file);
  let text: string;
  try {
    text = fs.readFileSync(resolved, 'utf8');
  } catch (err) {
    throw new PlatformConfigError([
      `${CONFIG_FILE_CONTEXT_KEY}: cannot read ${resolved}: ${(err as Error).message}`,
    ]);
  }
  try {
    return asObject(JSON.parse(text), `${CONFIG_FILE_CONTEXT_KEY} (${resolved})`);
  } catch (err) {
    if (err instanceof PlatformConfigError) throw err;
    throw new PlatformConfigError([
      `${CONFIG_FILE_CONTEXT_KEY}: ${resolved} is not valid JSON: ${(err as Error).message}`,
    ]);
  }
}

/** `-c` values arrive as strings; JSON-looking ones (numbers, arrays, objects, booleans) are parsed. */
function parseIfString(value: unknown, key: string): Json {
  if (typeof value !== 'string') return value as Json;
  const trimmed = value.trim();
  if (/^[[{"]|^-?\d|^(true|false|null)$/.test(trimmed)) {
    try {
      return JSON.parse(trimmed) as Json;
    } catch {
      if (/^[[{]/.test(trimmed)) {
        throw new PlatformConfigError([`${key}: the value is not valid JSON`]);
      }
    }
  }
  return value;
}

function asObject(value: Json, where: string): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new PlatformConfigError([`${where}: expected a JSON object`]);
  }
  return value;
}

function setPath(target: JsonObject, keys: string[], value: Json): void {
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    node = next && typeof next === 'object' && !Array.isArray(next) ? next : (node[key] = {});
  }
  node[keys[keys.length - 1]] = value;
}

/** Objects merge key by key; anything else (arrays included) is replaced. */
function deepMerge(base: Json, layer: Json): Json {
  if (!isObject(base) || !isObject(layer)) return layer;
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(layer)) {
    out[key] = key in base ? deepMerge(base[key], value) : value;
  }
  return out;
}

function isObject(value: Json): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = [CONFIG_CONTEXT_KEY, ...issue.path.map(String)].join('.');
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeysAt(issue.path.map(String));
    return issue.keys
      .map((key) => `${where}.${key}: unknown key; allowed here: ${allowed.join(', ')}`)
      .join('\n  - ');
  }
  return `${where}: ${issue.message}`;
}

function allowedKeysAt(pathKeys: string[]): string[] {
  let schema: z.ZodType = platformConfigSchema;
  for (const key of pathKeys) {
    schema = unwrap(schema);
    if (!(schema instanceof z.ZodObject)) return [];
    schema = (schema.shape as Record<string, z.ZodType>)[key];
  }
  schema = unwrap(schema);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodPipe) {
    current = (current instanceof z.ZodOptional ? current.unwrap() : current.in) as z.ZodType;
  }
  return current;
}
