// `npm run cost [-- -c key=value ...] [--readme]`: the platform's idle monthly cost per stack and
// region, from the templates `cdk synth` writes for the configuration (cdk.json's context, with
// `-c` on top as for cdk), and the marginal cost of what users do. `--readme` writes the table
// into the README between its cost markers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { costMarkdown, costReport } from './cost-report';

export const README = path.join(__dirname, '..', '..', 'README.md');
export const BEGIN = '<!-- the cost table: npm run cost -- --readme -->';
export const END = '<!-- end of the cost table -->';

/** The README with `markdown` between the cost markers; throws when the markers are missing. */
export function withCostTable(readme: string, markdown: string): string {
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`README.md has no cost markers (${BEGIN} ... ${END})`);
  return `${readme.slice(0, begin + BEGIN.length)}\n\n${markdown}\n\n${readme.slice(end)}`;
}

function main(): void {
  const { values } = parseArgs({
    options: { context: { type: 'string', short: 'c', multiple: true }, readme: { type: 'boolean' } },
  });
  const context: Record<string, string> = {};
  for (const pair of values.context ?? []) {
    const at = pair.indexOf('=');
    if (at < 1) throw new Error(`-c ${pair}: expected key=value`);
    context[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const markdown = costMarkdown(costReport(context));
  if (values.readme) {
    fs.writeFileSync(README, withCostTable(fs.readFileSync(README, 'utf8'), markdown));
    console.log('README.md: cost table written');
  } else {
    console.log(markdown);
  }
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 1;
  }
}
