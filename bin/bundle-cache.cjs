// The CommonJS bundle of a TypeScript entry of this repository, so that a process starts in plain
// Node instead of compiling its TypeScript at every start (tsx takes about a second). The bundle
// is built by esbuild on first use into node_modules/.cache/imaging-platform/, and again whenever
// a source it was built from, the lock file or this file changes: it is keyed by a hash of those files'
// contents, so a fresh clone (`npm ci`), an edited source and a changed dependency all get a
// bundle of the code as it is. Installed packages stay out of the bundle and load from
// node_modules as they are (sharp is native, the codecs load their .wasm from their own folders);
// the workspace packages, which ship TypeScript, are bundled.
'use strict';
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
// Another folder may be named, inside node_modules, where the bundle's packages resolve from.
const cacheDir =
  process.env.IMAGING_PLATFORM_BUNDLE_CACHE ??
  path.join(root, 'node_modules', '.cache', 'imaging-platform', 'bundles');

/** Hash of the files' names and contents, in the order given, and of the entry's own text if it has one. */
function hashOf(files, contents = '') {
  const hash = createHash('sha256').update(`${contents}\0`);
  for (const file of files)
    hash
      .update(`${file}\0`)
      .update(fs.readFileSync(path.join(root, file)))
      .update('\0');
  return hash.digest('hex');
}

/** The manifest of the last build: its inputs, their hash and its bundle's file name. */
function readManifest(manifestFile) {
  try {
    return JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The bundle of `source` built from the sources as they are now, if there is one. */
function currentBundle(manifest, source) {
  try {
    if (!manifest || hashOf(manifest.inputs, source.contents) !== manifest.hash) return undefined;
  } catch {
    return undefined; // a source it was built from is gone
  }
  const bundle = path.join(cacheDir, manifest.bundle);
  return fs.existsSync(bundle) ? bundle : undefined;
}

/**
 * The packages the repository and its workspace packages depend on, which stay out of a bundle
 * (a package's subpaths with it), all but the workspace packages themselves.
 */
function externalPackages() {
  const manifests = [
    path.join(root, 'package.json'),
    ...fs
      .readdirSync(path.join(root, 'packages'))
      .map((dir) => path.join(root, 'packages', dir, 'package.json')),
  ].map((file) => JSON.parse(fs.readFileSync(file, 'utf8')));
  const workspace = new Set(manifests.slice(1).map((manifest) => manifest.name));
  const names = manifests.flatMap((manifest) =>
    ['dependencies', 'devDependencies', 'optionalDependencies'].flatMap((field) =>
      Object.keys(manifest[field] ?? {}),
    ),
  );
  return [...new Set(names)].filter((name) => !workspace.has(name));
}

/** What the bundle and its map call an entry given as text. */
const stdinName = (source) => `<${source.name}>`;

/** esbuild's options for `source`: a file's path relative to the repository, or a module's text. */
function buildOptions(source) {
  return {
    absWorkingDir: root,
    ...('file' in source
      ? { entryPoints: [source.file] }
      : {
          stdin: { contents: source.contents, resolveDir: root, sourcefile: stdinName(source), loader: 'ts' },
        }),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${process.versions.node.split('.')[0]}`,
    external: externalPackages(),
    // Stack traces name the TypeScript sources where Node maps them (NODE_OPTIONS=--enable-source-maps, as Lambda's).
    sourcemap: 'inline',
    sourcesContent: false,
    // Where the bundle goes, so that the map names its sources relative to it.
    outdir: cacheDir,
    metafile: true,
    write: false,
    logLevel: 'silent',
  };
}

/** Writes the bundle and its manifest; the path of the bundle. */
function store(result, source, manifestFile) {
  const inputs = [
    ...Object.keys(result.metafile.inputs).filter(
      (file) => !file.startsWith('node_modules/') && file !== stdinName(source),
    ),
    'package-lock.json',
    // How it is built, too.
    path.relative(root, __filename),
  ].sort();
  const hash = hashOf(inputs, source.contents);
  const bundle = `${source.name}-${hash.slice(0, 16)}.cjs`;
  fs.mkdirSync(cacheDir, { recursive: true });
  // Written under a temporary name and renamed, so that a process started meanwhile never reads half a file.
  const temporary = (file) => `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary(path.join(cacheDir, bundle)), result.outputFiles[0].contents);
  fs.renameSync(temporary(path.join(cacheDir, bundle)), path.join(cacheDir, bundle));
  fs.writeFileSync(temporary(manifestFile), JSON.stringify({ hash, inputs, bundle }));
  fs.renameSync(temporary(manifestFile), manifestFile);
  // The bundle it replaces stays: another process may be about to load it (one whose sandbox
  // was set up differently, or which read the manifest a moment before), and `npm ci` empties
  // the cache.
  return path.join(cacheDir, bundle);
}

/** The file's path relative to the repository, as the bundle's name: `bin/images/convert.ts` -> `bin+images+convert`. */
function sourceOf(entry) {
  const file = path.relative(root, path.resolve(root, entry));
  return { file, name: file.replace(/\.ts$/, '').replace(/[\\/]/g, '+') };
}

/**
 * The path of the current bundle of `entry` (a TypeScript file, relative to the repository or
 * absolute), built first if there is none. Blocks while it builds: for a command about to run it.
 */
function bundledEntrySync(entry) {
  const source = sourceOf(entry);
  const manifestFile = path.join(cacheDir, `${source.name}.json`);
  const manifest = readManifest(manifestFile);
  const current = currentBundle(manifest, source);
  if (current) return current;
  const esbuild = require('esbuild');
  return store(esbuild.buildSync(buildOptions(source)), source, manifestFile);
}

/** Builds under way in this process, by bundle name: one build each, however many ask at once. */
const building = new Map();

/**
 * As `bundledEntrySync`, for `entry` or for a module's own text (`{ name, contents }`, TypeScript,
 * whose imports resolve from the repository's root), without blocking while it builds: for a
 * process that serves requests meanwhile.
 */
function bundledEntry(entry) {
  const source = typeof entry === 'string' ? sourceOf(entry) : entry;
  const manifestFile = path.join(cacheDir, `${source.name}.json`);
  const manifest = readManifest(manifestFile);
  const current = currentBundle(manifest, source);
  if (current) return Promise.resolve(current);
  if (!building.has(source.name)) {
    const esbuild = require('esbuild');
    const built = esbuild
      .build(buildOptions(source))
      .then((result) => store(result, source, manifestFile))
      .finally(() => building.delete(source.name));
    building.set(source.name, built);
  }
  return building.get(source.name);
}

module.exports = { bundledEntry, bundledEntrySync };
