#!/usr/bin/env node
// Bundles the `isaac` shell into one CommonJS file (native and npm packages stay external), so it
// starts without compiling TypeScript on every run. Run by `npm ci`/`npm install` (prepare) and
// before `npm test`; the launcher (node/cli/isaac.cjs) falls back to the sources whenever one of
// the files the bundle was made from is newer than it.
//
// Why CommonJS: an ES module entry costs a few milliseconds more to start, its npm imports go
// through the ES module loader (better-sqlite3 and node-pty cost ~10 ms more than by require), and
// Node 20 cannot keep V8's compiled code of an ES module between runs. The launcher compiles this
// file with a V8 code cache instead (node/dist/isaac-SIZE-TIME.cache), see node/cli/isaac.cjs.
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);

/**
 * better-sqlite3's JavaScript goes into the bundle (requiring its 14 files costs ~4 ms at every
 * start), and its native addon is loaded straight from the package's build/Release instead of
 * through `bindings`, which searches a dozen places with a stack-trace trick that would look in
 * node/dist. `bindings` stays the fallback for any other layout (a prebuild elsewhere).
 */
const sqliteInBundle = {
  name: 'better-sqlite3-in-bundle',
  setup(b) {
    b.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: require.resolve('better-sqlite3') }));
    b.onLoad({ filter: /better-sqlite3[\\/]lib[\\/]database\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const call = "require('bindings')('better_sqlite3.node')";
      if (!source.includes(call)) throw new Error(`deploy/build.mjs: ${args.path} no longer has ${call}`);
      const direct = `((root) => {
        try { return require(root + '/build/Release/better_sqlite3.node'); }
        catch { return require('bindings')({ bindings: 'better_sqlite3.node', module_root: root }); }
      })(require('node:path').dirname(require.resolve('better-sqlite3/package.json')))`;
      return { contents: source.replace(call, direct), loader: 'js' };
    });
  },
};

const result = await build({
  entryPoints: ['node/shell/cli.ts'],
  outfile: 'node/dist/isaac.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  // import() of our own modules becomes a lazy require: what a line does not use is never run
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': '__isaacBundleUrl' },
  banner: { js: 'const __isaacBundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  plugins: [sqliteInBundle],
  // a third less to read and to check against the code cache at every start; names stay, so a
  // stack trace still says which function
  minifyWhitespace: true,
  minifySyntax: true,
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
});
// data files read at run time next to the code that reads them
copyFileSync('node/core/tiers/rules.json', 'node/dist/rules.json');
// what the bundle was made from: the launcher runs the sources instead when one is newer
const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.includes('node_modules/'));
inputs.push('node/core/tiers/rules.json');
writeFileSync('node/dist/isaac.inputs.json', `${JSON.stringify(inputs.sort())}\n`);
// earlier bundles' compiled code (node/cli/isaac.cjs) is of no use to this one
for (const file of readdirSync('node/dist')) {
  if (file.endsWith('.cache') || file === 'isaac.mjs') rmSync(`node/dist/${file}`, { force: true });
}
