import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../../node/core/store/store.ts';
import { corpusRows, WIDER } from '../../helpers/redact-cases.ts';
import { tempDir } from '../../helpers/tmp.ts';

/** Every byte ISAAC_HOME holds: the database and any WAL / shared-memory files next to it. */
function homeBytes(home: string): Buffer {
  return Buffer.concat(readdirSync(home).map((f) => readFileSync(join(home, f))));
}

/** Word tokens of the secrets that no command holds outside its secret (those must not be indexed). */
function secretOnlyTokens(rows: ReadonlyArray<[string, string]>): Map<string, string> {
  const words = (text: string) => text.toLowerCase().split(/[^a-z0-9]+/);
  const around = new Set(rows.flatMap(([command, secret]) => words(command.replace(secret, ' '))));
  const tokens = new Map<string, string>();
  for (const [, secret] of rows) {
    for (const token of words(secret)) if (token.length >= 4 && !around.has(token)) tokens.set(token, secret);
  }
  return tokens;
}

test('no secret reaches the SQLite file, its WAL or the FTS index (record, shell source)', (t) => {
  const home = tempDir(t);
  const rows = [...corpusRows(), ...WIDER.map(([c, s]) => [c, s] as [string, string])];
  const store = openStore(home);
  for (const [command, secret] of rows) {
    const rec = store.history.record({ command, output: `+ ${command}\ndone\n`, cwd: '/tmp', exit: 0 });
    assert.ok(rec, command);
    assert.ok(!rec.command.includes(secret), rec.command);
    assert.ok(!rec.output!.includes(secret), rec.output!);
  }
  assert.equal(store.history.count(), rows.length);

  // the FTS index: neither a phrase query nor the raw vocabulary knows any secret token
  store.db.exec('CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, commands_fts, row)');
  const vocab = new Set(
    store.db
      .prepare<[], { term: string }>('SELECT term FROM temp.vocab')
      .all()
      .map((r) => r.term),
  );
  assert.ok(vocab.has('redacted'), 'the index holds the redacted rows');
  const search = store.db.prepare<[string], { n: number }>(
    'SELECT COUNT(*) AS n FROM commands_fts WHERE commands_fts MATCH ?',
  );
  const tokens = secretOnlyTokens(rows);
  assert.ok(tokens.size > rows.length, 'enough secret tokens to look for');
  for (const [token, secret] of tokens) {
    assert.ok(!vocab.has(token), `FTS vocabulary holds "${token}" of ${secret}`);
    assert.equal(search.get(`"${token}"`)!.n, 0, `FTS search finds "${token}"`);
  }
  const beforeClose = homeBytes(home);
  store.close();
  const afterClose = homeBytes(home);
  for (const bytes of [beforeClose, afterClose]) {
    for (const [, secret] of rows) {
      assert.equal(bytes.indexOf(Buffer.from(secret)), -1, `secret found in the database files: ${secret}`);
    }
  }
  // and the test can fail: a value we did store is found by the same byte search
  assert.notEqual(afterClose.indexOf(Buffer.from('[REDACTED]')), -1);
});

test('no secret reaches the store through a batched import (recordMany) or a peer batch (insertRemote)', (t) => {
  const home = tempDir(t);
  const rows = [...corpusRows(), ...WIDER.map(([c, s]) => [c, s] as [string, string])];
  const store = openStore(home);
  const added = store.history.recordMany(
    rows.map(([command], i) => ({
      command,
      ts: 1_700_000_000_000 + i,
      source: 'import',
      importKey: `k${i}`,
    })),
  );
  assert.equal(added, rows.length);
  store.history.insertRemote(rows.map(([command], i) => ({ origin: 'peer-a', seq: i + 1, ts: 1, command })));
  assert.equal(store.history.count(), rows.length * 2);
  store.close();
  const bytes = homeBytes(home);
  for (const [, secret] of rows) assert.equal(bytes.indexOf(Buffer.from(secret)), -1, secret);
});
