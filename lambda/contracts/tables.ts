import { SettingsGroup, settingsGroup, text } from './settings';

/**
 * The platform's DynamoDB tables: key schema, and the setting that carries each one's name to the
 * handlers that use it. The data stack builds its tables from these, local mode creates the same
 * ones in dynalite, and handlers look names up here, so the three cannot drift apart. All keys
 * are strings.
 */
export interface TableSchema {
  readonly partitionKey: string;
  /**
   * Attribute holding the epoch second after which DynamoDB deletes the item (eventually: readers
   * check it themselves).
   */
  readonly timeToLive?: string;
  readonly sortKey?: string;
  readonly indexes?: readonly {
    readonly name: string;
    readonly partitionKey: string;
    readonly sortKey: string;
  }[];
}

export const TABLES = {
  /** One item per multipart upload. */
  uploads: {
    partitionKey: 'id',
    indexes: [{ name: 'byOwner', partitionKey: 'owner', sortKey: 'createdAt' }],
  },
  /** One item per image: how many files it has, conversion status, errors, metadata and output. */
  images: {
    partitionKey: 'id',
    indexes: [{ name: 'byOwner', partitionKey: 'owner', sortKey: 'createdAt' }],
  },
  /**
   * The files of each image, in pages (`page` 00000, 00001, ...) of a few hundred KB: an image may
   * be made of 10,000 uploads, more than its own item holds.
   */
  imageFiles: { partitionKey: 'imageId', sortKey: 'page' },
  /** One item per algorithm: title, interfaces, limits, members and its active version. */
  algorithms: { partitionKey: 'id' },
  /** Every container image version of each algorithm. */
  algorithmVersions: { partitionKey: 'algorithmId', sortKey: 'id' },
  /**
   * Every model (weights archive) of each algorithm; `pendingValidation` is set only while a model
   * waits to be validated, so its index holds just those.
   */
  algorithmModels: {
    partitionKey: 'algorithmId',
    sortKey: 'id',
    indexes: [{ name: 'pendingValidation', partitionKey: 'pendingValidation', sortKey: 'createdAt' }],
  },
  /** Every build of each algorithm: its context upload, state, pipeline execution and result. */
  builds: { partitionKey: 'algorithmId', sortKey: 'id' },
  /** Who belongs to which algorithm, to list a user's algorithms; the algorithm item is the authority. */
  memberships: { partitionKey: 'userId', sortKey: 'algorithmId' },
  /** One item per job: algorithm version, inputs, state, outputs. */
  jobs: {
    partitionKey: 'id',
    indexes: [
      { name: 'byOwner', partitionKey: 'owner', sortKey: 'createdAt' },
      { name: 'byAlgorithm', partitionKey: 'algorithmId', sortKey: 'createdAt' },
    ],
  },
  /** Active jobs per user, per algorithm and in all (`scope`), checked against the limits. */
  activeJobs: { partitionKey: 'scope' },
  /** `Idempotency-Key`s of job submissions, per user, with a hash of the request they came with. */
  idempotencyKeys: { partitionKey: 'key', timeToLive: 'expiresAt' },
  /** One item per viewer session: its owner, images, state and expiry; kept 30 days past its cap. */
  sessions: { partitionKey: 'id', timeToLive: 'purgeAt' },
  /**
   * The viewer session limits' slots, `user#<sub>#<n>` and `region#<region>#<n>`: each names the
   * session holding it and that session's expiry, after which the slot is free again.
   */
  sessionSlots: { partitionKey: 'slot' },
  /** One item per user with counters that limits are checked against (bytes uploaded, builds under way, ...). */
  usage: { partitionKey: 'userId' },
} as const satisfies Record<string, TableSchema>;

export type TableName = keyof typeof TABLES;

/** The setting that names a table: `uploadsTable` for `uploads` (the variable UPLOADS_TABLE). */
export type TableNameSetting<T extends TableName> = `${T}Table`;

/** The group that carries one table's name, for each table. */
export const TABLE_NAMES = Object.fromEntries(
  (Object.keys(TABLES) as TableName[]).map((table) => [
    table,
    settingsGroup(`the name of the ${table} table`, { [`${table}Table`]: text }),
  ]),
) as { readonly [T in TableName]: SettingsGroup<Record<TableNameSetting<T>, typeof text>> };

/** The deployed (or local) name of a table, from the handler's environment. */
export function tableName<T extends TableName>(table: T): string {
  return TABLE_NAMES[table].read()[`${table}Table`];
}
