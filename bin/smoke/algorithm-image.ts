import {
  CreateRepositoryCommand,
  DescribeImageScanFindingsCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  RepositoryAlreadyExistsException,
  ScanNotFoundException,
} from '@aws-sdk/client-ecr';
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ContainerEngine } from '../../local/jobs/container-engine';
import { buildRunnableImage } from '../../containers/jobs/runner/runnable-image';

const run = promisify(execFile);
const EXAMPLE_DIR = path.join(__dirname, '..', '..', 'containers', 'algorithms', 'example-threshold');

/**
 * The example algorithm as an author ships it to a deployment: built from its Dockerfile for
 * linux/amd64, given the job runner layer, pushed to `repositoryName` in the account's ECR (made
 * if missing, scanned on push) and returned by digest once its scan has finished, which
 * activation requires. The layer is made of this machine's Node binary: run from linux/amd64.
 */
export async function pushExampleAlgorithm(
  engine: ContainerEngine,
  region: string,
  repositoryName: string,
): Promise<string> {
  const ecr = new ECRClient({ region });
  try {
    const repositoryUri = await ensureRepository(ecr, repositoryName);
    const local = `localhost/${repositoryName}:smoke`;
    await run(engine.command, ['build', '--platform', 'linux/amd64', '--quiet', '--tag', local, EXAMPLE_DIR]);
    const runnable = await buildRunnableImage(engine, local, `${local}-runnable`);
    const remote = `${repositoryUri}:smoke-${Date.now()}`;
    await run(engine.command, ['tag', runnable, remote]);
    await login(engine, ecr, repositoryUri.split('/')[0]);
    const digest = await push(engine, remote);
    await scanFinished(ecr, repositoryName, digest);
    return `${repositoryUri}@${digest}`;
  } finally {
    ecr.destroy();
  }
}

async function ensureRepository(ecr: ECRClient, repositoryName: string): Promise<string> {
  try {
    const created = await ecr.send(
      new CreateRepositoryCommand({
        repositoryName,
        imageScanningConfiguration: { scanOnPush: true },
        imageTagMutability: 'IMMUTABLE',
        encryptionConfiguration: { encryptionType: 'KMS' },
      }),
    );
    return created.repository!.repositoryUri!;
  } catch (err) {
    if (!(err instanceof RepositoryAlreadyExistsException)) throw err;
    const found = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [repositoryName] }));
    return found.repositories![0].repositoryUri!;
  }
}

async function login(engine: ContainerEngine, ecr: ECRClient, registry: string): Promise<void> {
  const { authorizationData } = await ecr.send(new GetAuthorizationTokenCommand({}));
  const [, password] = Buffer.from(authorizationData![0].authorizationToken!, 'base64').toString().split(':');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(engine.command, ['login', '--username', 'AWS', '--password-stdin', registry], {
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${engine.command} login to ${registry} failed`)),
    );
    child.stdin.end(password);
  });
}

/** Pushes and returns the digest of the manifest as the registry stores it. */
async function push(engine: ContainerEngine, image: string): Promise<string> {
  const folder = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'smoke-push-'));
  try {
    const digestFile = path.join(folder, 'digest');
    const podman = /podman/.test(engine.command);
    const { stdout } = await run(
      engine.command,
      ['push', ...(podman ? ['--digestfile', digestFile] : []), image],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    // docker prints `<tag>: digest: sha256:<hex> size: <n>`; podman writes the digest to a file.
    const digest = podman
      ? (await fs.promises.readFile(digestFile, 'utf8')).trim()
      : /digest: (sha256:[0-9a-f]{64})/.exec(stdout)?.[1];
    if (!digest) throw new Error(`${engine.command} push of ${image} named no digest`);
    return digest;
  } finally {
    await fs.promises.rm(folder, { recursive: true, force: true });
  }
}

async function scanFinished(ecr: ECRClient, repositoryName: string, imageDigest: string): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    try {
      const { imageScanStatus } = await ecr.send(
        new DescribeImageScanFindingsCommand({ repositoryName, imageId: { imageDigest } }),
      );
      if (imageScanStatus?.status === 'COMPLETE') return;
      if (imageScanStatus?.status === 'FAILED') {
        throw new Error(
          `the scan of ${repositoryName}@${imageDigest} failed: ${imageScanStatus.description}`,
        );
      }
    } catch (err) {
      if (!(err instanceof ScanNotFoundException)) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 10_000));
  }
  throw new Error(`the scan of ${repositoryName}@${imageDigest} did not finish in 10 minutes`);
}
