#!/usr/bin/env node
// Bundles the `isaac` shell into one ES module (native and npm packages stay external), so it
// starts without compiling TypeScript on every run. Run by `npm ci`/`npm install` (prepare) and
// before `npm test`; the launcher falls back to the sources whenever they are newer than the bundle.
import { copyFileSync } from 'node:fs';
import { build } from 'esbuild';

await build({
  entryPoints: { isaac: 'node/shell/cli.ts' },
  outExtension: { '.js': '.mjs' },
  outdir: 'node/dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
  legalComments: 'none',
});
// data files read at run time next to the code that reads them
copyFileSync('node/core/tiers/rules.json', 'node/dist/rules.json');
