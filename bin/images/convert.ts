#!/usr/bin/env node
// `npm run convert`: the command of convert-command.ts. Exits 1 if any file was rejected.
import { convertCommand } from './convert-command';

convertCommand(process.argv.slice(2), { line: console.log, error: console.error }).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(err.stack);
    process.exit(2);
  },
);
