import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CODEC_WASM_FILES } from '@imaging-platform/image-io';

const projectDir = path.join(__dirname, '..', '..');

/** `npx cdk synth` as a platform engineer runs it on a fresh machine: no AWS credentials, config or account. */
function cdkSynth(args: string[]) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'no-aws-home-'));
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-out-'));
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_') && !name.startsWith('CDK_')),
  );
  const result = spawnSync('npx', ['cdk', 'synth', '--quiet', '--output', outDir, ...args], {
    cwd: projectDir,
    env: { ...env, HOME: home, CDK_DISABLE_VERSION_CHECK: 'true' },
    encoding: 'utf8',
    // Six stacks in four regions, validated and checked by cdk-nag: minutes on a shared machine.
    timeout: 600_000,
  });
  return { ...result, outDir };
}

describe('cdk synth from the command line', () => {
  let result: ReturnType<typeof cdkSynth>;
  beforeAll(() => {
    result = cdkSynth(['-c', 'platform.homeRegion=eu-west-1']);
  }, 610_000);

  test('synthesizes every stack with no AWS account, credentials or Docker, in its configured region', () => {
    expect(result.stderr).not.toMatch(/ERROR|Error:/);
    expect(result.status).toBe(0);
    const manifest = JSON.parse(fs.readFileSync(path.join(result.outDir, 'manifest.json'), 'utf8'));
    const stacks = Object.entries(manifest.artifacts as Record<string, { type: string; environment: string }>)
      .filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack')
      .map(([name, artifact]) => [name, artifact.environment]);
    expect(stacks).toEqual([
      ['ImagingPlatform-Data', 'aws://unknown-account/eu-west-1'],
      ['ImagingPlatform-Compute', 'aws://unknown-account/eu-west-1'],
      ['ImagingPlatform-Api', 'aws://unknown-account/eu-west-1'],
      ['ImagingPlatform-Operations', 'aws://unknown-account/eu-west-1'],
      // One viewer fleet per viewer region, each in its own.
      ['ImagingPlatform-Viewer-eu-central-1', 'aws://unknown-account/eu-central-1'],
      ['ImagingPlatform-Viewer-ap-northeast-1', 'aws://unknown-account/ap-northeast-1'],
      ['ImagingPlatform-Viewer-us-east-2', 'aws://unknown-account/us-east-2'],
    ]);
    expect(fs.existsSync(path.join(result.outDir, 'ImagingPlatform-Data.template.json'))).toBe(true);
    // The key pair handler was bundled by the local esbuild, not Docker.
    const assets = fs.readdirSync(result.outDir).filter((f) => f.startsWith('asset.'));
    expect(assets.some((a) => fs.existsSync(path.join(result.outDir, a, 'index.js')))).toBe(true);

    // The converter image is staged, not built: a small context with the bundled entrypoint and
    // the DICOM codecs' WebAssembly, which it loads from its own folder.
    const computeAssets = JSON.parse(
      fs.readFileSync(path.join(result.outDir, 'ImagingPlatform-Compute.assets.json'), 'utf8'),
    );
    const images = Object.values(
      computeAssets.dockerImages as Record<string, { displayName: string; source: { directory: string } }>,
    );
    expect(images.map((image) => image.displayName).sort()).toEqual([
      'ImageConverter/Image/Asset',
      'JobInputStaging/Image/Asset',
    ]);
    const imageOf = (name: string) =>
      path.join(result.outDir, images.find((i) => i.displayName === `${name}/Image/Asset`)!.source.directory);
    const context = imageOf('ImageConverter');
    expect(fs.readdirSync(context).sort()).toEqual([
      'Dockerfile',
      'charlswasm_decode.wasm',
      'entrypoint.js',
      'entrypoint.js.map',
      'libjpegturbowasm_decode.wasm',
      'openjpegwasm_decode.wasm',
      'package.json',
    ]);
    expect(fs.readFileSync(path.join(context, 'Dockerfile'), 'utf8')).toMatch(/^FROM public\.ecr\.aws\//m);
    expect(JSON.parse(fs.readFileSync(path.join(context, 'package.json'), 'utf8')).dependencies).toEqual({
      sharp: expect.stringMatching(/^\d+\.\d+\.\d+$/),
    });
    const entrypoint = fs.readFileSync(path.join(context, 'entrypoint.js'), 'utf8');
    expect(entrypoint).toContain('require("sharp")');
    expect(entrypoint).toContain('AWS_BATCH_JOB_ID');

    // The input stager's: its bundled entrypoint alone, which copies inside S3.
    const stager = imageOf('JobInputStaging');
    expect(fs.readdirSync(stager).sort()).toEqual(['Dockerfile', 'entrypoint.js', 'entrypoint.js.map']);
    expect(fs.readFileSync(path.join(stager, 'entrypoint.js'), 'utf8')).toContain('UploadPartCopy');
  });

  test("the viewer host's image is staged in each viewer region: its bundled entrypoint, the browser client bundled ahead, and the lock file's sharp and ws", () => {
    for (const region of ['eu-central-1', 'ap-northeast-1', 'us-east-2']) {
      const assets = JSON.parse(
        fs.readFileSync(path.join(result.outDir, `ImagingPlatform-Viewer-${region}.assets.json`), 'utf8'),
      );
      const [image] = Object.values(
        assets.dockerImages as Record<string, { source: { directory: string }; destinations: object }>,
      );
      expect(
        Object.values(image.destinations as Record<string, { region: string }>).map((d) => d.region),
      ).toEqual([region]);
      const context = path.join(result.outDir, image.source.directory);
      expect(fs.readdirSync(context).sort()).toEqual([
        'Dockerfile',
        'client',
        'entrypoint.js',
        'entrypoint.js.map',
        'package.json',
      ]);
      expect(JSON.parse(fs.readFileSync(path.join(context, 'package.json'), 'utf8')).dependencies).toEqual({
        sharp: expect.stringMatching(/^\d+\.\d+\.\d+$/),
        ws: expect.stringMatching(/^\d+\.\d+\.\d+$/),
      });
      expect(fs.readFileSync(path.join(context, 'entrypoint.js'), 'utf8')).toContain('require("sharp")');
      // The client the host serves, bundled for the browser (an IIFE, no require).
      const client = fs.readFileSync(path.join(context, 'client', 'dist', 'viewer-client.js'), 'utf8');
      expect(client.length).toBeGreaterThan(10_000);
      expect(client).not.toContain('require(');
    }
  });

  test("the converter's bundle carries the codec WebAssembly files it loads from its own folder", () => {
    const template = JSON.parse(
      fs.readFileSync(path.join(result.outDir, 'ImagingPlatform-Api.template.json'), 'utf8'),
    );
    const converter = Object.values<{
      Type: string;
      Properties: { Description?: string };
      Metadata?: Record<string, string>;
    }>(template.Resources).find(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        r.Properties.Description ===
          'Converts the upload set of one image to .mha, or sends it to the converter container',
    )!;
    const asset = path.join(result.outDir, converter.Metadata!['aws:asset:path']);
    const bundle = fs.readFileSync(path.join(asset, 'index.js'), 'utf8');
    for (const file of CODEC_WASM_FILES) {
      const name = path.basename(require.resolve(file));
      expect(bundle).toContain(name);
      expect(fs.readFileSync(path.join(asset, name)).equals(fs.readFileSync(require.resolve(file)))).toBe(
        true,
      );
    }
  });

  test('a bad config value stops synth with the key named', () => {
    const result = cdkSynth(['-c', 'platform.compute.maxVcpus=-4']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('platform.compute.maxVcpus: Too small: expected number to be >=1');
  });
});
