/**
 * The aedes-persistence abstract suite (the contract every Aedes persistence must meet), run
 * against the SQLite persistence on real database files, one fresh file per instance.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createSqlitePersistence } from '../../broker/persistence/sqlite.ts';

const require = createRequire(import.meta.url);
const abstractSuite = require('aedes-persistence/abstract.js') as (options: {
  test: typeof test;
  persistence: () => unknown;
  testAsync: boolean;
}) => void;

const dir = mkdtempSync(join(tmpdir(), 'isaac-persistence-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

abstractSuite({
  test,
  persistence: () => createSqlitePersistence({ file: join(dir, `p${++n}.db`) }),
  testAsync: true,
});
