import assert from 'node:assert/strict';
import { test } from 'node:test';
import nacl from 'tweetnacl';
import { encodeCbor } from '../../schemas/codec.ts';
import { errorLine, ProtocolError, UsageError } from '../../schemas/errors.ts';
import { assertMachineName, isMachineName, RESERVED_MACHINE_NAMES } from '../../schemas/names.ts';
import { verifyRosterEntry } from '../../schemas/roster.ts';
import { INBOX_KINDS, parseTopic, topics } from '../../schemas/topics.ts';

test('names: every fixed level of the topic tree is reserved, and wildcards never pass', () => {
  const fixed = new Set<string>();
  const levels = [
    ...INBOX_KINDS.map((k) => topics.inbox('m0', k)),
    topics.status('m0'),
    topics.roster('m0'),
    topics.allStatus,
    topics.allRoster,
    topics.haStatus,
  ];
  for (const topic of levels) for (const level of topic.split('/')) if (level !== 'm0') fixed.add(level);
  fixed.delete('+');
  for (const level of fixed) {
    assert.ok(RESERVED_MACHINE_NAMES.includes(level), `${level} is reserved`);
    assert.equal(isMachineName(level), false, level);
  }
  for (const bad of ['$sys', '+', '#', 'a/b', 'a+', 'x#', '', '-a', 'A', 'a'.repeat(33)]) {
    assert.equal(isMachineName(bad), false, bad);
  }
  for (const good of ['alpha', 'web-1', 'rosters', 'my-status', 'nas'])
    assert.equal(isMachineName(good), true);
});

test('names: the error names the rule in one line', () => {
  assert.throws(
    () => assertMachineName('roster'),
    (err: unknown) =>
      err instanceof UsageError &&
      /invalid machine name "roster": "roster" is a reserved topic level/.test(errorLine(err)) &&
      !errorLine(err).includes('\n'),
  );
  assert.throws(
    () => assertMachineName('Web_1'),
    (err: unknown) => err instanceof UsageError && /1-32 characters of a-z, 0-9 and -/.test(errorLine(err)),
  );
  assert.throws(() => topics.inbox('status', 'exec'), UsageError);
  // a topic whose machine level is a reserved word is no machine's topic
  assert.equal(parseTopic('isaac/roster/exec'), undefined);
  assert.equal(parseTopic('isaac/status/status'), undefined);
});

test('names: a correctly signed roster entry for "roster" is refused by members, naming the rule', () => {
  const network = nacl.sign.keyPair();
  const body = encodeCbor({
    v: 1,
    name: 'roster',
    signPk: new Uint8Array(32).fill(1),
    boxPk: new Uint8Array(32).fill(2),
    added: 1,
  });
  const bytes = encodeCbor([body, nacl.sign.detached(body, network.secretKey)]);
  assert.throws(
    () => verifyRosterEntry(bytes, network.publicKey),
    (err: unknown) =>
      err instanceof ProtocolError &&
      /roster entry for "roster" refused: .*reserved topic level/.test(err.message),
  );
});
