import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStore } from '../../node/core/store/store.ts';
import { runBangCommand } from '../../node/shell/commands/bang.ts';
import { captureIO } from '../helpers/capture-io.ts';
import { tempDir } from '../helpers/tmp.ts';

test('every ! command without a network prints one line, exits 2 and queues nothing', async (t) => {
  const home = tempDir(t);
  const store = openStore(home);
  t.after(() => store.close());
  for (const line of ['!exec web1 uptime', '!msg laptop hello', '!status nas', '!exec all true', '!bogus']) {
    const io = captureIO();
    const code = await runBangCommand(line, { store, io, env: { ISAAC_HOME: home }, assumeYes: false });
    assert.equal(code, 2, line);
    assert.equal(io.outText, '');
    assert.equal(
      io.errText,
      'no network configured: run `isaac-node init` (first machine) or `isaac-node join CODE`\n',
    );
    const outbox = store.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number };
    const messages = store.db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number };
    assert.equal(outbox.n, 0);
    assert.equal(messages.n, 0);
  }
});
