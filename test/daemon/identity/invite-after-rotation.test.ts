import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import nacl from 'tweetnacl';
import { initDataDir } from '../../../broker/init.ts';
import { rotateNetworkKey } from '../../../node/core/identity/rotation.ts';
import { paths } from '../../../node/core/paths.ts';
import { initNetwork, joinNetwork } from '../../../node/daemon/identity/init.ts';
import { createInvite } from '../../../node/shell/identity/membership.ts';
import { AuthError, errorLine } from '../../../schemas/errors.ts';
import { createInviteGrant, decodeInvite, encodeInvite } from '../../../schemas/invite.ts';
import { startTestBroker } from '../../helpers/broker.ts';
import { runNodeCli } from '../../helpers/node-procs.ts';
import { tempDir } from '../../helpers/tmp.ts';

/**
 * An invite made before a network key rotation cannot join (its grant is signed by the retired
 * key), and the joining machine says so: not "another network", not a list of guesses. The broker
 * recognises the retired key (it keeps retired keys for the record) and answers with its own
 * refusal code; an invite of a key it never had still gets the general answer.
 */
test('after a network key rotation, an old invite says it was made before the rotation; a new invite joins', async (t) => {
  const root = tempDir(t, 'isaac-old-invite-');
  const dataDir = join(root, 'data');
  const { setupToken } = initDataDir(dataDir);
  const broker = await startTestBroker(t, {
    reuse: { dataDir, networkKeys: nacl.sign.keyPair(), secrets: new Map() },
  });
  const alpha = join(root, 'alpha');
  await initNetwork({
    home: alpha,
    brokers: [broker.tlsUrl],
    fingerprint: broker.fingerprint,
    setupToken,
    name: 'alpha',
  });
  const old = createInvite(alpha, 'laptop');
  const made = new Date(decodeInvite(old).grantFields.issued).toISOString().slice(0, 16).replace('T', ' ');
  const rotatedAt = Date.now();
  await rotateNetworkKey(alpha);

  // what the user sees
  const laptop = join(root, 'laptop');
  const joined = await runNodeCli(laptop, ['join', old]);
  assert.notEqual(joined.code, 0);
  assert.equal(
    joined.stderr.trim().split('\n').at(-1),
    `isaac-node: this invite for laptop was made on ${made} UTC, before the network key was rotated: ask an admin for a new one (isaac invite laptop)`,
  );
  assert.doesNotMatch(joined.stderr, /another network|different network/);
  assert.equal(existsSync(paths.keys(laptop)), false, 'nothing was set up');
  const refused = broker.logs().filter((l) => l.includes('"reason":"admin-invite-old-key"'));
  assert.equal(refused.length, 1);
  const retired = /rotated away at ([0-9T:.Z-]+)/.exec(refused[0] ?? '')?.[1];
  assert.ok(retired && Math.abs(Date.parse(retired) - rotatedAt) < 60_000, refused[0]);

  // an invite signed by a key this broker never had: the general answer, not "rotated"
  const stranger = nacl.sign.keyPair();
  const { grant, inviteSeed } = createInviteGrant('tablet', stranger.secretKey, {
    expires: Date.now() + 60_000,
    issued: Date.now(),
  });
  const foreign = encodeInvite({ ...decodeInvite(old), networkPk: stranger.publicKey, grant, inviteSeed });
  await assert.rejects(
    joinNetwork({ home: join(root, 'tablet'), code: foreign }),
    (err: unknown) =>
      err instanceof AuthError &&
      /^the broker refused the enrollment: an invite joins once/.test(errorLine(err)) &&
      !/rotated/.test(errorLine(err)),
  );

  // an invite made after the rotation joins as usual
  const fresh = await joinNetwork({ home: laptop, code: createInvite(alpha, 'laptop') });
  assert.equal(fresh.name, 'laptop');
});
