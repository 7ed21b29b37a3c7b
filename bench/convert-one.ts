// Converts one file in this fresh process and reports wall time and peak memory as JSON.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { convertImageFiles } from '../lambda/shared/conversion/convert-image-files';

async function main(): Promise<void> {
  const file = process.argv[2];
  const started = performance.now();
  const result = await convertImageFiles([{ name: path.basename(file), load: () => fs.readFileSync(file) }]);
  const wallMs = performance.now() - started;
  if (result.images.length !== 1) throw new Error(`conversion failed: ${JSON.stringify(result.rejected)}`);
  const outputBytes = result.images[0].content.length;
  process.stdout.write(
    `${JSON.stringify({ wallMs, maxRssKb: process.resourceUsage().maxRSS, outputBytes })}\n`,
  );
}

main().catch((err: Error) => {
  console.error(err.stack);
  process.exit(1);
});
