/**
 * The API's DynamoDB tables: key schema and the variable that carries each name. The api stack
 * builds its tables from these, local mode creates the same ones in dynalite, and handlers look
 * names up here, so the three cannot drift apart. All keys are strings.
 */
export interface TableSchema {
  /** Environment variable holding the table's name in a handler. */
  readonly nameVariable: string;
  readonly partitionKey: string;
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
    nameVariable: 'UPLOADS_TABLE',
    partitionKey: 'id',
    indexes: [{ name: 'byOwner', partitionKey: 'owner', sortKey: 'createdAt' }],
  },
  /** One item per image: its source uploads, conversion status, errors, metadata and output. */
  images: {
    nameVariable: 'IMAGES_TABLE',
    partitionKey: 'id',
    indexes: [{ name: 'byOwner', partitionKey: 'owner', sortKey: 'createdAt' }],
  },
  /** One item per algorithm: title, interfaces, limits, members and its active version. */
  algorithms: { nameVariable: 'ALGORITHMS_TABLE', partitionKey: 'id' },
  /** Every container image version of each algorithm. */
  algorithmVersions: { nameVariable: 'ALGORITHM_VERSIONS_TABLE', partitionKey: 'algorithmId', sortKey: 'id' },
  /** Who belongs to which algorithm, to list a user's algorithms; the algorithm item is the authority. */
  memberships: { nameVariable: 'MEMBERSHIPS_TABLE', partitionKey: 'userId', sortKey: 'algorithmId' },
  /** One item per job: algorithm version, inputs, state, outputs. */
  jobs: {
    nameVariable: 'JOBS_TABLE',
    partitionKey: 'id',
    indexes: [
      { name: 'byOwner', partitionKey: 'owner', sortKey: 'createdAt' },
      { name: 'byAlgorithm', partitionKey: 'algorithmId', sortKey: 'createdAt' },
    ],
  },
  /** Active jobs per user, per algorithm and in all (`scope`), checked against the limits. */
  activeJobs: { nameVariable: 'ACTIVE_JOBS_TABLE', partitionKey: 'scope' },
  /** `Idempotency-Key`s of job submissions, per user, with a hash of the request they came with. */
  idempotencyKeys: { nameVariable: 'IDEMPOTENCY_KEYS_TABLE', partitionKey: 'key' },
  /** One item per user with counters that limits are checked against (bytes uploaded, ...). */
  usage: { nameVariable: 'USAGE_TABLE', partitionKey: 'userId' },
} as const satisfies Record<string, TableSchema>;

export type TableName = keyof typeof TABLES;

/** The deployed (or local) name of a table, from the handler's environment. */
export function tableName(table: TableName): string {
  const name = process.env[TABLES[table].nameVariable];
  if (!name) throw new Error(`${TABLES[table].nameVariable} is not set`);
  return name;
}
