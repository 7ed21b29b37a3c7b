import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { emptyExtracted } from '../../lambda/algorithms/model-archive';
import { algorithmRunArgs, ContainerEngine, removeContainer } from './container-engine';
import { ImageUserError } from '../../containers/jobs/runner/algorithm-identity';
import { Job, JobRun, readManifest, runJob } from '../../containers/jobs/runner/run-job';
import { RunnerRefusal } from '../../containers/jobs/runner/runner-refusal';
import { writableRootFullReason } from '../../containers/jobs/runner/writable-root';
import { cachedImageUserIds } from './image-user-cache';
import { authorImageOf } from './layered-image';
import { watchWritableLayer, WritableLayerWatch } from './writable-layer';

export interface LocalJob extends Pick<
  Job,
  's3' | 'bucket' | 'resultSigningKey' | 'graceSeconds' | 'outputLimits' | 'onLine' | 'onStarted'
> {
  readonly manifestKey: string;
  readonly engine: ContainerEngine;
  /** Bytes the algorithm may write to its own root file system (`limits.writableRootBytes`). */
  readonly writableRootBytes: number;
}

/** The image's USER as `uid:gid`, as registration resolved it; an image that would run as root is refused. */
async function userOf(engine: ContainerEngine, image: string): Promise<string> {
  try {
    const { uid, gid } = await cachedImageUserIds(engine, image);
    return `${uid}:${gid}`;
  } catch (err) {
    if (err instanceof ImageUserError) throw new RunnerRefusal(err.message);
    throw err;
  }
}

/**
 * Runs one job with a local container engine: the image unchanged, as its own user (by the
 * numbers its own /etc/passwd gives, never root), with no network, a read-only /input, a writable
 * root of its own held to `writableRootBytes` and removed with the container, no capabilities,
 * memory without swap and a process limit. Its folders live under a folder only this machine's
 * root can enter.
 */
export async function runJobLocally(job: LocalJob): Promise<JobRun> {
  const manifest = await readManifest(job.s3, job.bucket, job.manifestKey);
  const work = await fs.promises.mkdtemp(path.join(os.tmpdir(), `job-${manifest.jobId}-`));
  const inputDir = path.join(work, 'input');
  const outputDir = path.join(work, 'output');
  const modelDir = path.join(work, 'model');
  const name = `job-${manifest.jobId}`;
  const stop = (seconds: number) => () =>
    void spawnSync(job.engine.command, ['stop', '--time', String(seconds), name], { stdio: 'ignore' });
  let writableLayer: WritableLayerWatch | undefined;
  try {
    await fs.promises.mkdir(inputDir);
    await fs.promises.mkdir(outputDir);
    await fs.promises.mkdir(modelDir);
    return await runJob({
      ...job,
      manifest,
      inputDir,
      outputDir,
      modelDir,
      launcher: {
        start: async () => {
          // A build's image runs its author's program as its author's user, as its runner layer would.
          const author = await authorImageOf(job.engine, manifest.image);
          if (author && /^0?(:|$)/.test(author.user)) {
            throw new RunnerRefusal(`the image's author runs as root (${author.user || 'no USER'})`);
          }
          const user = author?.user || (await userOf(job.engine, manifest.image));
          writableLayer = watchWritableLayer(job.engine, name, job.writableRootBytes, stop(0));
          return {
            child: spawn(
              job.engine.command,
              algorithmRunArgs(job.engine, {
                name,
                image: manifest.image,
                inputDir,
                outputDir,
                // As SageMaker gives grand-challenge's algorithms their model; without one the image's own path shows.
                ...(manifest.model && { modelDir }),
                memoryGb: manifest.memoryGb,
                user,
                ...(author && { author }),
              }),
              {
                stdio: ['ignore', 'pipe', 'pipe'],
                env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
                // Its own process group: a Ctrl-C meant for local mode must not reach the container.
                detached: true,
              },
            ),
            terminate: () =>
              void spawn(job.engine.command, ['stop', '--time', String(job.graceSeconds), name]),
            kill: stop(0),
            limitReached: () =>
              writableLayer?.exceeded ? writableRootFullReason(job.writableRootBytes) : undefined,
          };
        },
        exitCode: async (observed) => {
          // Measured once more while the stopped container still has its layer.
          await writableLayer?.finish();
          return (await removeContainer(job.engine, name)).oomKilled ? 137 : observed;
        },
      },
    });
  } finally {
    await writableLayer?.finish();
    // The model's folders have no write bits, so they are opened up before they can be removed.
    await emptyExtracted(modelDir);
    await fs.promises.rm(work, { recursive: true, force: true });
  }
}
