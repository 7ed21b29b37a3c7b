import * as fs from 'node:fs';

/** What the walkthrough needs of a deployment, from the file `cdk deploy --all --outputs-file` writes. */
export interface Deployment {
  /** The API's base, ending in `/v1`. */
  readonly api: string;
  readonly userPoolId: string;
  readonly userPoolClientId: string;
  /** The home region, where the user pool lives. */
  readonly region: string;
}

/** Reads a deployment from a stack outputs file, naming each output that is missing. */
export function readStackOutputs(file: string): Deployment {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not a stack outputs file: ${(err as Error).message}`, { cause: err });
  }
  // Outputs by name across stacks: each name belongs to one stack of the app.
  const outputs: Record<string, string> = {};
  for (const stack of Object.values(parsed as Record<string, Record<string, string>>)) {
    if (stack && typeof stack === 'object') Object.assign(outputs, stack);
  }
  const missing = ['ApiUrl', 'UserPoolId', 'UserPoolClientId'].filter((name) => !outputs[name]);
  if (missing.length > 0) {
    throw new Error(
      `${file} lacks ${missing.join(', ')}: write it with \`npx cdk deploy --all --outputs-file ${file}\``,
    );
  }
  return {
    api: `${outputs.ApiUrl.replace(/\/+$/, '')}/v1`,
    userPoolId: outputs.UserPoolId,
    userPoolClientId: outputs.UserPoolClientId,
    // A pool's id starts with its region: eu-central-1_AbCdEf.
    region: outputs.UserPoolId.split('_')[0],
  };
}
