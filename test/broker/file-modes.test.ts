import assert from 'node:assert/strict';
import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { initDataDir } from '../../broker/init.ts';
import { STATE_DB_FILE } from '../../broker/state.ts';
import { TLS_KEY_FILE } from '../../broker/tls.ts';
import { paths } from '../../node/core/paths.ts';
import { openStore } from '../../node/core/store/store.ts';
import { errorLine } from '../../schemas/errors.ts';
import { startTestBroker } from '../helpers/broker.ts';
import { tempDir } from '../helpers/tmp.ts';

const mode = (path: string) => statSync(path).mode & 0o777;

test('file modes: broker-state.db, sessions.db and isaac.db are created 0600 (and their WAL files)', async (t) => {
  const broker = await startTestBroker(t, { machines: ['alpha'] });
  for (const file of [STATE_DB_FILE, 'sessions.db', `${STATE_DB_FILE}-wal`]) {
    assert.equal(mode(join(broker.dataDir, file)).toString(8), '600', file);
  }
  const home = tempDir(t);
  const store = openStore(home);
  store.history.record({ command: 'echo hi', exit: 0 });
  try {
    assert.equal(mode(paths.database(home)).toString(8), '600');
    assert.equal(mode(`${paths.database(home)}-wal`).toString(8), '600');
  } finally {
    store.close();
  }
});

test('file modes: the broker refuses to start with a shared TLS key or data dir, printing the chmod', async (t) => {
  const dataDir = join(tempDir(t), 'data');
  initDataDir(dataDir);
  const key = join(dataDir, TLS_KEY_FILE);
  chmodSync(key, 0o644);
  await assert.rejects(
    startTestBroker(t, {
      reuse: {
        dataDir,
        networkKeys: { publicKey: new Uint8Array(32), secretKey: new Uint8Array(64) },
        secrets: new Map(),
      },
    }),
    (err: unknown) =>
      new RegExp(
        `the TLS key ${key} is accessible to other users \\(mode 644\\); refusing to start: run: chmod 600 ${key}`,
      ).test(errorLine(err)),
  );
  chmodSync(key, 0o600);
  chmodSync(dataDir, 0o755);
  await assert.rejects(
    startTestBroker(t, {
      reuse: {
        dataDir,
        networkKeys: { publicKey: new Uint8Array(32), secretKey: new Uint8Array(64) },
        secrets: new Map(),
      },
    }),
    (err: unknown) =>
      /the data directory .* \(mode 755\); refusing to start: run: chmod 700 /.test(errorLine(err)),
  );
  chmodSync(dataDir, 0o700);
});
