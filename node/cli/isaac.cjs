#!/usr/bin/env node
// Starts `isaac` from the pre-built bundle (deploy/build.mjs) when it is newer than every file it
// was made from (fast start-up), otherwise from the TypeScript sources through tsx, so a stale
// bundle can never run. CommonJS: an ES module entry point starts ~4 ms later.
'use strict';
const { readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

const root = join(__dirname, '..', '..');
const dist = join(root, 'node', 'dist');
const bundle = join(dist, 'isaac.cjs');

/** Whether the bundle is newer than every file it was made from (one stat each, ~1 ms). */
function madeFromOlder(built, inputs) {
  try {
    const base = `${root}/`; // not path.join: it costs more than the stat itself, 131 times
    for (const file of inputs) if (statSync(base + file).mtimeMs > built) return false;
    return true;
  } catch {
    return false; // a file it was made from is gone
  }
}

/**
 * Compiles the bundle as CommonJS with V8's code cache: Node 20 has no compile cache of its own
 * (module.enableCompileCache is 22.1+), and compiling half a megabyte of JavaScript takes ~10 ms,
 * from the cache ~3. The first run of a bundle writes its cache (so it holds the functions that
 * run compiled, not only the top level); a cache V8 refuses (another Node) is written again.
 * The cache is named after the bundle's size and time: V8 checks only a source's length, so a
 * cache must never meet another bundle. Where node/dist is not writable it is simply not kept.
 */
function compileBundle(cacheFile) {
  const source = readFileSync(bundle, 'utf8');
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundle,
    ...(cachedData ? { cachedData } : {}),
  });
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once('exit', () => {
      try {
        // the caches of earlier bundles are of no use any more
        for (const old of readdirSync(dist)) {
          const file = join(dist, old);
          if (/^isaac-\d+-\d+\.cache$/.test(old) && file !== cacheFile) unlinkSync(file);
        }
        const tmp = `${cacheFile}.${process.pid}`;
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
      } catch {
        // read-only install: start-up just compiles every time
      }
    });
  }
  return script;
}

function runSources() {
  import('tsx/esm/api').then(({ register }) => {
    register();
    return import('../shell/cli.ts');
  });
}

function start() {
  let built;
  let inputs;
  try {
    built = statSync(bundle);
    inputs = JSON.parse(readFileSync(join(dist, 'isaac.inputs.json'), 'utf8'));
  } catch {
    runSources();
    return;
  }
  if (!madeFromOlder(built.mtimeMs, inputs)) {
    runSources();
    return;
  }
  let script;
  try {
    script = compileBundle(join(dist, `isaac-${built.size}-${Math.floor(built.mtimeMs)}.cache`));
  } catch {
    runSources(); // a broken bundle
    return;
  }
  // This file's require resolves packages as the bundle's own would (node/dist has no
  // node_modules), and the bundle has no import() (deploy/build.mjs turns them into requires).
  const module = { exports: {} };
  script.runInThisContext()(module.exports, require, module, bundle, dirname(bundle));
}

start();
