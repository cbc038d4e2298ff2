import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import nacl from 'tweetnacl';
import { loadIdentity } from '../../../node/core/crypto/keys.ts';
import { loadNetworkSettings } from '../../../node/core/identity/settings.ts';
import { openStore } from '../../../node/core/store/store.ts';
import { runRevokeCommand } from '../../../node/shell/identity/commands.ts';
import { createInvite } from '../../../node/shell/identity/membership.ts';
import { CONNACK_INVITE_BEFORE_ROTATION } from '../../../schemas/admin.ts';
import { inviteEnrollRequest } from '../../helpers/broker.ts';
import { captureIO } from '../../helpers/capture-io.ts';
import {
  createNetwork,
  runNodeCli,
  startNodeProc,
  waitAllOnline,
  withStore,
} from '../../helpers/node-procs.ts';
import { waitFor } from '../../helpers/tmp.ts';

const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : 'none');

test('through real isaac-node processes: revoke with rotation while the daemons run; beta gets the new public key, alpha invites delta, and everyone trusts the re-signed entries', async (t) => {
  const { broker, homes, root } = await createNetwork(t, ['alpha', 'beta', 'gamma']);
  const { alpha: homeA, beta: homeB, gamma: homeC } = homes as Record<'alpha' | 'beta' | 'gamma', string>;
  await startNodeProc(t, homeA);
  const nodeB = await startNodeProc(t, homeB);
  await startNodeProc(t, homeC);
  await waitAllOnline([homeA, homeB], ['alpha', 'beta', 'gamma']);
  // what a revoked admin would have kept: a copy of the old network key (gamma, a member, has none)
  const cOldKey = loadIdentity(homeA).network;
  assert.ok(cOldKey);
  assert.equal(loadIdentity(homeC).network, undefined);

  // `isaac revoke gamma --rotate` in a shell on alpha while alpha's isaac-node runs
  const io = captureIO([true]);
  const store = openStore(homeA);
  try {
    const ctx = { store, env: {}, assumeYes: false, io };
    assert.equal(await runRevokeCommand(['gamma', '--rotate'], ctx), 0);
  } finally {
    store.close();
  }
  assert.match(io.text, /new key queued for beta;/);
  const newPk = loadIdentity(homeA).network?.publicKey;
  assert.equal(hex(broker.running?.state.networkPk()), hex(newPk));

  // alpha's daemon sends the envelope without a reconnect; beta's daemon installs the key
  await waitFor(
    () => withStore(homeB, (s) => hex(loadNetworkSettings(s)?.networkPk) === hex(newPk)),
    'beta trusts the new key',
    20_000,
  );
  assert.equal(loadIdentity(homeB).network, undefined, 'a member never gets the secret');
  // the line is logged after the commit the store check saw, and reaches us through a pipe
  await waitFor(
    () => /installed the network key rotated by alpha/.test(nodeB.log()),
    'beta logs that it installed the rotated key',
    20_000,
  );
  assert.equal(
    await broker.admin(inviteEnrollRequest('intruder', nacl.randomBytes(32), cOldKey.secretKey)),
    CONNACK_INVITE_BEFORE_ROTATION, // refused, as made before the rotation
  );

  // alpha (the admin) invites delta with the new key
  const homeD = join(root, 'delta');
  const joined = await runNodeCli(homeD, ['join', createInvite(homeA, 'delta')]);
  assert.equal(joined.code, 0, joined.stderr);
  await startNodeProc(t, homeD);
  // delta knows only the new key: it trusts alpha and beta because their daemons re-published their
  // entries signed with it, and sees gamma revoked through the re-published revocation
  await waitFor(
    () =>
      withStore(
        homeD,
        (s) =>
          !!s.machines.get('alpha')?.box_pk &&
          !!s.machines.get('beta')?.box_pk &&
          s.machines.get('gamma')?.revoked != null,
      ),
    'delta trusts alpha and beta and sees gamma revoked',
    20_000,
  );
  await waitFor(
    () => withStore(homeB, (s) => !!s.machines.get('delta')?.box_pk),
    'beta trusts delta',
    20_000,
  );
  await waitFor(
    () => withStore(homeA, (s) => !!s.machines.get('delta')?.box_pk),
    'alpha trusts delta',
    20_000,
  );
});
