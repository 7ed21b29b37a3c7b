/** A module's own text as an entry: TypeScript whose imports resolve from the repository's root. */
export interface ModuleText {
  /** The bundle's name in the cache, one per entry. */
  readonly name: string;
  readonly contents: string;
}

/** The path of the current bundle of `entry`, built first if there is none; blocks while it builds. */
export function bundledEntrySync(entry: string): string;

/** The path of the current bundle of `entry`, built first if there is none, without blocking. */
export function bundledEntry(entry: string | ModuleText): Promise<string>;
