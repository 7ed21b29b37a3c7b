// `npm run bench`: prints the platform's figures. Each capability adds its own section.
// Handlers log every request at INFO; under load that would drown the figures.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true'; // a metric document per invocation would drown the figures
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { benchConversion } from './conversion';
import { benchLocalApi } from './local-api';

const projectDir = path.join(__dirname, '..');
const SYNTH_TARGET_SECONDS = 30;

function mib(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function benchSynth(): void {
  console.log('## Synthesizing the whole app (cdk.json context, bundling included)');
  const runs = 3;
  for (let run = 1; run <= runs; run++) {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
    const started = performance.now();
    const result = spawnSync('npx', ['tsx', path.join(__dirname, 'synth-app.ts'), outDir], {
      cwd: projectDir,
      encoding: 'utf8',
    });
    const processMs = performance.now() - started;
    if (result.status !== 0) {
      console.error(result.stderr);
      throw new Error(`synth failed with exit code ${result.status}`);
    }
    const figures = JSON.parse(result.stdout.trim().split('\n').pop()!) as {
      wallMs: number;
      maxRssKb: number;
    };
    const verdict = processMs / 1000 < SYNTH_TARGET_SECONDS ? 'within' : 'OVER';
    console.log(
      `run ${run}: ${(processMs / 1000).toFixed(2)} s wall including Node start (${(figures.wallMs / 1000).toFixed(2)} s in the app), ` +
        `peak memory ${mib(figures.maxRssKb * 1024)}; ${verdict} the ${SYNTH_TARGET_SECONDS} s target`,
    );
    if (run === runs) {
      reportLambdaBundles(outDir);
      reportConverterContext(outDir);
    }
    fs.rmSync(outDir, { recursive: true, force: true });
  }

  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cli-'));
  const started = performance.now();
  const cli = spawnSync('npx', ['cdk', 'synth', '--quiet', '--output', outDir], {
    cwd: projectDir,
    encoding: 'utf8',
  });
  if (cli.status !== 0) throw new Error(`cdk synth failed: ${cli.stderr}`);
  console.log(
    `npx cdk synth, end to end through the CLI: ${((performance.now() - started) / 1000).toFixed(2)} s`,
  );
  fs.rmSync(outDir, { recursive: true, force: true });
}

/** Sizes of each bundled handler, found through the asset manifests of the synthesized stacks. */
function reportLambdaBundles(outDir: string): void {
  console.log('\n## Bundled Lambda handlers');
  for (const file of fs.readdirSync(outDir).filter((f) => f.endsWith('.template.json'))) {
    const template = JSON.parse(fs.readFileSync(path.join(outDir, file), 'utf8'));
    for (const [logicalId, resource] of Object.entries<{ Type: string; Metadata?: Record<string, string> }>(
      template.Resources,
    )) {
      const assetPath = resource.Metadata?.['aws:asset:path'];
      if (resource.Type !== 'AWS::Lambda::Function' || !assetPath) continue;
      const dir = path.join(outDir, assetPath);
      const code = fs.statSync(path.join(dir, 'index.js')).size;
      const map = fs.existsSync(path.join(dir, 'index.js.map'))
        ? fs.statSync(path.join(dir, 'index.js.map')).size
        : 0;
      // Files shipped beside the bundle, such as the converter's codec WebAssembly.
      const beside = fs
        .readdirSync(dir)
        .filter((f) => f !== 'index.js' && f !== 'index.js.map')
        .map((f) => `, ${f} ${kib(fs.statSync(path.join(dir, f)).size)}`)
        .join('');
      console.log(
        `${file.replace('.template.json', '')}/${logicalId}: index.js ${kib(code)}, source map ${kib(map)}${beside}`,
      );
    }
  }
}

/** What `cdk deploy` sends to Docker for the converter image: the staged context, file by file. */
function reportConverterContext(outDir: string): void {
  console.log('\n## Converter image build context');
  for (const file of fs.readdirSync(outDir).filter((f) => f.endsWith('.assets.json'))) {
    const manifest = JSON.parse(fs.readFileSync(path.join(outDir, file), 'utf8')) as {
      dockerImages?: Record<string, { source: { directory: string } }>;
    };
    for (const image of Object.values(manifest.dockerImages ?? {})) {
      const dir = path.join(outDir, image.source.directory);
      const sizes = fs.readdirSync(dir).map((f) => `${f} ${kib(fs.statSync(path.join(dir, f)).size)}`);
      console.log(`${file.replace('.assets.json', '')}: ${sizes.join(', ')}`);
    }
  }
}

console.log(
  `# Imaging platform benchmarks (${os.cpus().length} cores, ${mib(os.totalmem())} memory, Node ${process.version})\n`,
);
benchSynth();
benchConversion();
benchLocalApi()
  .then(() => {
    // A fresh process: handlers keep their AWS clients per process, as in Lambda, and those of
    // the API bench point at its local platform, which has stopped.
    const jobs = spawnSync('npx', ['tsx', path.join(__dirname, 'jobs.ts')], { stdio: 'inherit' });
    if (jobs.status !== 0) throw new Error(`the jobs bench failed with exit code ${jobs.status}`);
    // Local mode at work, in a fresh process: the API's latency while a conversion and a job run.
    const responsiveness = spawnSync('npx', ['tsx', path.join(__dirname, 'local-responsiveness.ts')], {
      stdio: 'inherit',
    });
    if (responsiveness.status !== 0)
      throw new Error(`the local responsiveness bench failed with exit code ${responsiveness.status}`);
    const study = spawnSync('npx', ['tsx', path.join(__dirname, 'study-uploads.ts')], { stdio: 'inherit' });
    if (study.status !== 0) throw new Error(`the study uploads bench failed with exit code ${study.status}`);
    const builds = spawnSync('npx', ['tsx', path.join(__dirname, 'builds.ts')], { stdio: 'inherit' });
    if (builds.status !== 0) throw new Error(`the builds bench failed with exit code ${builds.status}`);
    // A fresh process, so that its memory per session is the volume's alone.
    const viewer = spawnSync('npx', ['tsx', path.join(__dirname, 'viewer-render.ts')], { stdio: 'inherit' });
    if (viewer.status !== 0)
      throw new Error(`the viewer render bench failed with exit code ${viewer.status}`);
    // Sessions end to end: local mode, the viewer server and a reader's socket, in a process of their own.
    const sessions = spawnSync('npx', ['tsx', path.join(__dirname, 'viewer-session.ts')], {
      stdio: 'inherit',
    });
    if (sessions.status !== 0)
      throw new Error(`the viewer session bench failed with exit code ${sessions.status}`);
    // Viewer hosts: sessions in containers of their own, through the container engine.
    const hosts = spawnSync('npx', ['tsx', path.join(__dirname, 'viewer-hosts.ts')], { stdio: 'inherit' });
    if (hosts.status !== 0) throw new Error(`the viewer hosts bench failed with exit code ${hosts.status}`);
  })
  .catch((err: Error) => {
    console.error(err.stack);
    process.exit(1);
  });
