import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BUILD_LIMITS,
  BUILDER_ENVIRONMENT,
  BUILDER_REPORT,
  BuildPhase,
  BuildResult,
} from '../../../lambda/contracts/builds';
import { ImageUserError } from '../../jobs/runner/algorithm-identity';
import { ContainerEngine, containerEngine, imageRepository } from '../../jobs/runner/image-engine';
import { buildRunnableImage } from '../../jobs/runner/runnable-image';
import { BuildFailure } from './build-failure';
import { ContextLimits, ContextRefusal, extractContext } from './context-archive';
import { buildAuthorImage, engineBuildArgs } from './engine-build';
import { imageSize, pushImage, removeTags } from './pushed-image';

export interface BuilderOptions {
  /** The author's archive: a zip or a gzipped tar. */
  readonly contextArchive: string;
  /** The Dockerfile's path inside the context. */
  readonly dockerfile: string;
  /** Where the image goes: an ECR repository's URI, or `localhost/<name>-algorithms` locally. */
  readonly repository: string;
  readonly tag: string;
  readonly engine: ContainerEngine;
  /** Base images are never pulled (podman only; see `engineBuildArgs`). */
  readonly pullNever: boolean;
  /** Push to the repository; otherwise the image stays in the engine. */
  readonly push: boolean;
  readonly limits: ContextLimits;
  /** The runner's bundles made ahead; without them they are bundled from the sources (esbuild). */
  readonly runnerBundles?: string;
  /**
   * Stops the build: the engine is stopped (`stopEngineProcess`, which leaves podman no working
   * container) and what the builder tagged is removed.
   */
  readonly signal?: AbortSignal;
}

/** How a build ended, as its last line says. */
export type BuildOutcome = { readonly result: BuildResult } | { readonly failed: string };

/** The folder beside the bundled builder that holds the runner's bundles, made at synth time. */
export const RUNNER_BUNDLES_DIR = 'runner';

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,119}$/;

/**
 * The builder's options from its environment (`BUILDER_ENVIRONMENT`, and the limits of
 * `BUILD_LIMITS`); a failure names every variable that is missing or wrong.
 */
export function builderOptions(env: NodeJS.ProcessEnv): BuilderOptions {
  const names = BUILDER_ENVIRONMENT;
  const problems: string[] = [];
  const required = (name: string) => {
    const value = env[name];
    if (!value) problems.push(`${name} is not set`);
    return value ?? '';
  };
  const flag = (name: string) => {
    if (env[name] !== 'true' && env[name] !== 'false') problems.push(`${name} must be true or false`);
    return env[name] === 'true';
  };
  const options = {
    contextArchive: required(names.contextArchive),
    dockerfile: env[names.dockerfile] || 'Dockerfile',
    repository: required(names.repository),
    tag: required(names.tag),
    engine: required(names.engine),
    pullNever: flag(names.pullNever),
    push: flag(names.push),
  };
  if (options.tag && !TAG.test(options.tag))
    problems.push(`${names.tag} is not an image tag ("${options.tag}")`);
  let limits: ContextLimits | undefined;
  try {
    const read = BUILD_LIMITS.parse(env);
    limits = { entries: read.buildContextEntries, extractedBytes: read.buildContextExtractedBytes };
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length > 0 || !limits) throw new Error(`the builder cannot start: ${problems.join('; ')}`);
  return { ...options, engine: containerEngine(options.engine), limits };
}

/**
 * Builds an author's context into a runnable image: extracts the archive (`extract`), builds its
 * Dockerfile (`build`), layers the job runner onto it as `npm run runnable-image` does, refusing
 * a root USER (`runner-layer`), and pushes it when asked (`push`). Every line for the build's log
 * goes to `log`: `BUILD_PHASE <phase>` at each phase's start, the engine's output, and last one
 * `BUILD_RESULT <json>` or `BUILD_FAILED <reason>`, the outcome it also resolves with. The image
 * is `<repository>:<tag>`, kept by digest; the author's image before layering is removed, and on
 * failure everything tagged. It never throws for a failed build.
 *
 * Runs in-process (local mode may call it directly: it starts only the engine, and changes no
 * global state) or as a process of its own through `main.ts`, as CodeBuild runs it.
 */
export async function runBuilder(
  options: BuilderOptions,
  log: (line: string) => void,
): Promise<BuildOutcome> {
  const { engine, signal } = options;
  const image = `${options.repository}:${options.tag}`;
  const authorImage = `${options.repository}:${options.tag}-author`;
  const tagged: string[] = [];
  const phaseSeconds: Partial<Record<BuildPhase, number>> = {};
  const work = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'builder-'));
  const phase = async <T>(name: BuildPhase, step: () => Promise<T>): Promise<T> => {
    if (signal?.aborted) throw new BuildFailure('the build was stopped');
    log(`${BUILDER_REPORT.phase} ${name}`);
    const start = performance.now();
    try {
      return await step();
    } finally {
      phaseSeconds[name] = Math.round(performance.now() - start) / 1000;
    }
  };
  try {
    const context = await phase('extract', async () => {
      const dir = path.join(work, 'context');
      await fs.promises.mkdir(dir);
      return extractContext(options.contextArchive, dir, {
        dockerfile: options.dockerfile,
        limits: options.limits,
      });
    });
    const buildArgs = engineBuildArgs(engine, { pullNever: options.pullNever });
    await phase('build', async () => {
      tagged.push(authorImage);
      await buildAuthorImage(
        engine,
        { context: context.root, dockerfile: context.dockerfile, tag: authorImage, buildArgs },
        log,
        signal,
      );
    });
    let digest = await phase('runner-layer', async () => {
      tagged.push(image);
      const local = await buildRunnableImage(engine, authorImage, image, {
        buildArgs,
        runnerBundles: options.runnerBundles,
      });
      await removeTags(engine, [authorImage]);
      return local;
    });
    if (options.push) digest = await phase('push', () => pushImage(engine, image, log, signal));
    const result: BuildResult = {
      image: digest,
      digest: digest.slice(imageRepository(image).length + 1),
      sizeBytes: await imageSize(engine, image),
      phaseSeconds,
    };
    log(`${BUILDER_REPORT.result} ${JSON.stringify(result)}`);
    return { result };
  } catch (err) {
    await removeTags(engine, tagged);
    const known =
      err instanceof BuildFailure || err instanceof ContextRefusal || err instanceof ImageUserError;
    const message = (err as Error).message;
    const reason = (known ? message : `the builder failed: ${message}`).trim().replace(/\s*\n\s*/g, ' | ');
    log(`${BUILDER_REPORT.failed} ${reason}`);
    return { failed: reason };
  } finally {
    await fs.promises.rm(work, { recursive: true, force: true });
  }
}
