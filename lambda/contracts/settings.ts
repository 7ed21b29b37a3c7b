// zod's mini build: the same schemas, a small fraction of the bundle.
import * as z from 'zod/mini';

/**
 * Settings that deploy code hands to runtime code through environment variables. A setting has
 * one name, in camelCase, from which its variable's name is derived (`uploadPartBytes` is read
 * from `UPLOAD_PART_BYTES`), so no variable name is written twice. Constructs (and local mode)
 * turn values into variables with `variables()`; a handler parses them with `read()`, which
 * fails naming every variable that is missing or malformed. There are no defaults at run time:
 * the configuration's defaults are applied once, where the values are set.
 */

/** What a setting may be given as where it is set (CDK tokens are strings). */
export type SettingValue = string | number | boolean | readonly string[];

/** A setting's schema: the variable's text in, the typed value out. */
export type SettingSchema = z.ZodMiniType<unknown, string>;

export type SettingsShape = Readonly<Record<string, SettingSchema>>;

/** The typed values of a shape, as a handler reads them. */
export type Settings<S extends SettingsShape> = { readonly [K in keyof S]: z.output<S[K]> };

/** The values of a shape, as deploy code and local mode give them: what the handler will read. */
export type SettingValues<S extends SettingsShape> = Settings<S>;

export const text = z.string().check(z.minLength(1, 'must not be empty'));
export const wholeNumber = z.pipe(
  z.string().check(z.regex(/^[1-9]\d{0,14}$/, 'must be a positive whole number')),
  z.transform(Number),
);
export const flag = z.pipe(
  z.enum(['true', 'false']),
  z.transform((value) => value === 'true'),
);
/** Comma-separated; empty for none. */
export const list = z.pipe(
  z.string(),
  z.transform((value) => value.split(',').filter(Boolean)),
);

/** `uploadPartBytes` -> `UPLOAD_PART_BYTES`. */
export function variableName(setting: string): string {
  return setting.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
}

export class SettingsError extends Error {}

/**
 * A group of settings that belong together (the upload limits, where the imaging bucket is),
 * named for the handlers' environments that include it.
 */
export class SettingsGroup<S extends SettingsShape = SettingsShape> {
  private parsed: Settings<S> | undefined;

  constructor(
    /** What the group is for, in a few words: "the upload limits". */
    readonly description: string,
    readonly shape: S,
  ) {}

  /** The names of the variables that carry this group. */
  get variableNames(): string[] {
    return Object.keys(this.shape).map(variableName);
  }

  /** The variables that carry `values`, by name. */
  variables(values: SettingValues<S>): Record<string, string> {
    return Object.fromEntries(
      Object.keys(this.shape).map((setting) => {
        const value = values[setting] as SettingValue | undefined;
        if (value === undefined) throw new SettingsError(`${this.description}: ${setting} has no value`);
        return [variableName(setting), Array.isArray(value) ? value.join(',') : String(value)];
      }),
    );
  }

  /** The group as read from `env`; a failure names each variable and what is wrong with it. */
  parse(env: NodeJS.ProcessEnv): Settings<S> {
    const problems: string[] = [];
    const out: Record<string, unknown> = {};
    for (const [setting, schema] of Object.entries(this.shape)) {
      const name = variableName(setting);
      const raw = env[name];
      if (raw === undefined) {
        problems.push(`${name} is not set`);
        continue;
      }
      const result = schema.safeParse(raw);
      if (result.success) out[setting] = result.data;
      else problems.push(`${name} ${result.error.issues[0].message} (is "${raw}")`);
    }
    if (problems.length > 0) {
      throw new SettingsError(`${this.description} cannot be read: ${problems.join('; ')}`);
    }
    return out as Settings<S>;
  }

  /** This process's settings, parsed once: a handler's environment does not change while it runs. */
  read(): Settings<S> {
    this.parsed ??= this.parse(process.env);
    return this.parsed;
  }
}

export function settingsGroup<S extends SettingsShape>(description: string, shape: S): SettingsGroup<S> {
  return new SettingsGroup(description, shape);
}
