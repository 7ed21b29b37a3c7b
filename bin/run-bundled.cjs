#!/usr/bin/env node
// `node bin/run-bundled.cjs <entry.ts> [args...]`: runs a TypeScript entry of this repository
// from a CommonJS bundle, so that a command starts in a plain Node process instead of compiling
// its TypeScript at every start (tsx takes about a second). The bundle is built by esbuild on
// first use into node_modules/.cache/imaging-platform/, and again whenever a source it was built
// from or the lock file changes: it is keyed by a hash of those files' contents, so a fresh
// clone (`npm ci`), an edited source and a changed dependency all get a bundle of the code as it
// is. Installed packages stay out of the bundle and load from node_modules as they are (sharp is
// native, the codecs load their .wasm from their own folders); the workspace packages, which
// ship TypeScript, are bundled.
'use strict';
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
// Another folder may be named, inside node_modules, where the bundle's packages resolve from.
const cacheDir =
  process.env.IMAGING_PLATFORM_BUNDLE_CACHE ??
  path.join(root, 'node_modules', '.cache', 'imaging-platform', 'bundles');

/** Hash of the files' names and contents, in the order given. */
function hashOf(files) {
  const hash = createHash('sha256');
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

/** The bundle built from the sources as they are now, if there is one. */
function currentBundle(manifest) {
  try {
    if (!manifest || hashOf(manifest.inputs) !== manifest.hash) return undefined;
  } catch {
    return undefined; // a source it was built from is gone
  }
  const bundle = path.join(cacheDir, manifest.bundle);
  return fs.existsSync(bundle) ? bundle : undefined;
}

/** The workspace packages by name, bundled from their TypeScript sources. */
function workspaceAliases() {
  const aliases = {};
  for (const dir of fs.readdirSync(path.join(root, 'packages'))) {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'packages', dir, 'package.json'), 'utf8'));
    aliases[manifest.name] = `./packages/${dir}/${manifest.main}`;
  }
  return aliases;
}

function build(entry, name, manifestFile, previous) {
  const esbuild = require('esbuild');
  const result = esbuild.buildSync({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${process.versions.node.split('.')[0]}`,
    packages: 'external',
    alias: workspaceAliases(),
    metafile: true,
    write: false,
    logLevel: 'error',
  });
  const inputs = [
    ...Object.keys(result.metafile.inputs).filter((file) => !file.startsWith('node_modules/')),
    'package-lock.json',
  ].sort();
  const hash = hashOf(inputs);
  const bundle = `${name}-${hash.slice(0, 16)}.cjs`;
  fs.mkdirSync(cacheDir, { recursive: true });
  // Written under a temporary name and renamed, so that a command started meanwhile never reads half a file.
  const temporary = (file) => `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary(path.join(cacheDir, bundle)), result.outputFiles[0].contents);
  fs.renameSync(temporary(path.join(cacheDir, bundle)), path.join(cacheDir, bundle));
  fs.writeFileSync(temporary(manifestFile), JSON.stringify({ hash, inputs, bundle }));
  fs.renameSync(temporary(manifestFile), manifestFile);
  // The bundle of older sources is of no more use.
  if (previous?.bundle && previous.bundle !== bundle)
    fs.rmSync(path.join(cacheDir, previous.bundle), { force: true });
  return path.join(cacheDir, bundle);
}

const [entryArgument, ...args] = process.argv.slice(2);
if (!entryArgument) {
  console.error('usage: node bin/run-bundled.cjs <entry.ts> [args...]');
  process.exit(2);
}
const entry = path.relative(root, path.resolve(entryArgument));
const name = entry.replace(/\.ts$/, '').replace(/[\\/]/g, '+');
const manifestFile = path.join(cacheDir, `${name}.json`);
const manifest = readManifest(manifestFile);
const bundle = currentBundle(manifest) ?? build(entry, name, manifestFile, manifest);
// The entry reads its arguments from process.argv, as when it is run itself.
process.argv = [process.argv[0], bundle, ...args];
require(bundle);
