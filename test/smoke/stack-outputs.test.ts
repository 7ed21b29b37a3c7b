import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readStackOutputs } from '../../bin/smoke/stack-outputs';

const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-outputs-'));
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

function outputsFile(content: string): string {
  const file = path.join(folder, `${Math.random()}.json`);
  fs.writeFileSync(file, content);
  return file;
}

describe('the smoke test reads a deployment from cdk deploy --outputs-file', () => {
  test('the API base, the user pool and its region, from whichever stack holds them', () => {
    const file = outputsFile(
      JSON.stringify({
        'imaging-platform-data': { UserPoolId: 'eu-west-2_AbC123', UserPoolClientId: 'client' },
        'imaging-platform-api': { ApiUrl: 'https://abc.execute-api.eu-west-2.amazonaws.com/prod/' },
      }),
    );
    expect(readStackOutputs(file)).toEqual({
      api: 'https://abc.execute-api.eu-west-2.amazonaws.com/prod/v1',
      userPoolId: 'eu-west-2_AbC123',
      userPoolClientId: 'client',
      region: 'eu-west-2',
    });
  });

  test('a file without them names each missing output and how to write the file', () => {
    const file = outputsFile(JSON.stringify({ 'imaging-platform-data': { UserPoolId: 'eu-west-2_x' } }));
    expect(() => readStackOutputs(file)).toThrow(
      `${file} lacks ApiUrl, UserPoolClientId: write it with \`npx cdk deploy --all --outputs-file ${file}\``,
    );
  });

  test('a file that is not JSON says so', () => {
    const file = outputsFile('ApiUrl=https://example');
    expect(() => readStackOutputs(file)).toThrow(`${file} is not a stack outputs file`);
  });
});
