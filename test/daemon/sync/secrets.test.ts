import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { searchHistory } from '../../../node/core/search/search.ts';
import { encodeCbor } from '../../../schemas/codec.ts';
import { openEnvelope } from '../../../schemas/envelope.ts';
import { topics } from '../../../schemas/topics.ts';
import { makeKeys, startPlainBroker } from '../../helpers/bus-nodes.ts';
import { corpusRows, WIDER } from '../../helpers/redact-cases.ts';
import { startSyncNode } from '../../helpers/sync-node.ts';
import { tempDir, waitFor } from '../../helpers/tmp.ts';

test('secrets corpus: no secret reaches a payload, the peer database or a search result on either machine', async (t) => {
  const cases = [...corpusRows(), ...WIDER.map(([command, secret]) => [command, secret] as [string, string])];
  assert.ok(cases.length >= 10);
  const broker = await startPlainBroker(t);
  const a = makeKeys('alpha');
  const b = makeKeys('beta');
  // What left alpha, read as the broker saw it and opened with beta's keys.
  const sent: Buffer[] = [];
  broker.aedes.on('publish', (packet) => {
    if (packet.topic !== topics.inbox('beta', 'history')) return;
    const env = openEnvelope(new Uint8Array(packet.payload as Buffer), {
      myName: 'beta',
      myBoxKeyPair: b.box,
      topicMachine: 'beta',
      lookupSignPk: (name) => (name === 'alpha' ? a.sign.publicKey : undefined),
    });
    sent.push(Buffer.from(encodeCbor(env.body)));
  });
  const homeA = tempDir(t);
  const homeB = tempDir(t);
  const na = await startSyncNode(t, a, [a, b], broker.url, homeA);
  const nb = await startSyncNode(t, b, [a, b], broker.url, homeB);
  na.store.config.set('sync.output', 'on');
  for (const [command] of cases) {
    na.store.history.record({ command, output: `+ ${command}\nok\n`, exit: 0 });
  }
  await waitFor(() => nb.store.history.count() === cases.length, 'beta has every record', 20_000);
  assert.ok(sent.length > 0, 'alpha sent history batches to beta');
  const payloads = Buffer.concat(sent);
  for (const [command, secret] of cases) {
    assert.equal(
      payloads.includes(secret),
      false,
      `secret of ${JSON.stringify(command)} in an outgoing body`,
    );
    for (const [node, home] of [
      [na, homeA],
      [nb, homeB],
    ] as const) {
      for (const hit of searchHistory(node.store, { text: secret, limit: 50 })) {
        assert.equal(hit.command.includes(secret), false, `search on ${node.name} shows a secret`);
      }
      const dbFiles = readdirSync(home).filter((f) => f.startsWith('isaac.db'));
      for (const f of dbFiles) {
        assert.equal(
          readFileSync(join(home, f)).includes(secret),
          false,
          `${f} of ${node.name} holds a secret`,
        );
      }
    }
  }
  // The matching also works: a non-secret part of the commands is still found on beta.
  assert.ok(searchHistory(nb.store, { text: 'aws' }).length > 0);
});
