import dynalite from 'dynalite';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { close, listen } from './port-check';

export interface EmbeddedDynamoDbOptions {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
}

/** The DynamoDB-compatible server of local mode, tables kept in LevelDB under `<dataDir>/dynamodb`. */
export async function startEmbeddedDynamoDb(
  options: EmbeddedDynamoDbOptions,
): Promise<{ stop: () => Promise<void> }> {
  const dbPath = path.join(options.dataDir, 'dynamodb');
  fs.mkdirSync(dbPath, { recursive: true });
  // Tables become ACTIVE at once instead of after dynalite's simulated delay.
  const server = dynalite({ path: dbPath, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await listen(server, options.host, options.port);
  // dynalite's close() also closes its LevelDB, releasing the folder's lock.
  return { stop: () => close(server) };
}
