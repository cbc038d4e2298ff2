#!/usr/bin/env node
// Starts `isaac` from the pre-built bundle (deploy/build.mjs) when it is newer than every file it
// was made from (fast start-up), otherwise from the TypeScript sources through tsx, so a stale
// bundle can never run. CommonJS: an ES module entry point starts ~4 ms later.
'use strict';
const { readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

const root = join(__dirname, '..', '..');
const bundle = join(root, 'node', 'dist', 'isaac.cjs');
const cacheFile = join(root, 'node', 'dist', 'isaac.cache');

function bundleIsCurrent() {
  try {
    const built = statSync(bundle).mtimeMs;
    const inputs = JSON.parse(readFileSync(join(root, 'node', 'dist', 'isaac.inputs.json'), 'utf8'));
    for (const file of inputs) if (statSync(join(root, file)).mtimeMs > built) return false;
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs the bundle as CommonJS, compiled with V8's code cache: Node 20 has no compile cache of its
 * own (module.enableCompileCache is 22.1+), and compiling half a megabyte of JavaScript is a good
 * part of isaac's start-up. The first run after a build writes the cache (so it holds the
 * functions that run compiled, not only the top level); a cache V8 refuses (another Node) is
 * written again. Where node/dist is not writable it is simply not kept.
 */
function runBundle() {
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
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once('exit', () => {
      try {
        const tmp = `${cacheFile}.${process.pid}`;
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
      } catch {
        // read-only install: start-up just compiles every time
      }
    });
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle));
}

if (bundleIsCurrent()) {
  runBundle();
} else {
  import('tsx/esm/api').then(({ register }) => {
    register();
    return import('../shell/cli.ts');
  });
}
