import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import test from 'node:test';
import nacl from 'tweetnacl';
import {
  CONNACK_INVITE_BEFORE_ROTATION,
  createAdminRequest,
  createRotateRequest,
  rotationProofMessage,
} from '../../schemas/admin.ts';
import { encodeCbor } from '../../schemas/codec.ts';
import { inviteEnrollRequest, startTestBroker } from '../helpers/broker.ts';

const secret = () => new Uint8Array(randomBytes(32));
const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : 'none');

test('admin rotate: forged, unproven and replayed rotations are refused and change nothing; a valid one moves the broker to the new key at once', async (t) => {
  // a row of refused admin requests from one address: the login throttle would answer the later ones
  const broker = await startTestBroker(t, { machines: ['alpha'], limits: { loginFreeFailures: 100 } });
  const running = broker.running;
  assert.ok(running);
  const old = broker.networkKeys;
  const next = nacl.sign.keyPair();
  const bound = () => hex(running.state.networkPk());
  const refusals = (reason: string) => running.counters.refusalCount(reason);
  assert.equal(bound(), hex(old.publicKey));

  // signed by the old key, but the "proof" is made with the old key too: nobody shown to hold `next`
  const nonce = new Uint8Array(randomBytes(16));
  const unproven = {
    v: 1,
    op: 'rotate',
    name: 'alpha',
    networkPk: next.publicKey,
    newKeySig: nacl.sign.detached(rotationProofMessage(old.publicKey, next.publicKey, nonce), old.secretKey),
    ts: Date.now(),
    nonce,
  };
  const unprovenBody = encodeCbor(unproven);
  let before = refusals('admin-bad-new-key-proof');
  assert.equal(
    await broker.admin(encodeCbor([unprovenBody, nacl.sign.detached(unprovenBody, old.secretKey)])),
    5,
  );
  assert.equal(refusals('admin-bad-new-key-proof'), before + 1);
  assert.equal(bound(), hex(old.publicKey), 'an unproven rotation changes nothing');

  // a rotate without the proof at all is malformed
  before = refusals('admin-malformed');
  assert.equal(
    await broker.admin(
      createAdminRequest({ op: 'rotate', name: 'alpha', networkPk: next.publicKey }, old.secretKey),
    ),
    5,
  );
  assert.equal(refusals('admin-malformed'), before + 1);

  // signed by a random key (it holds `next` and proves it, but is not the bound key)
  const stranger = nacl.sign.keyPair();
  before = refusals('admin-bad-signature');
  assert.equal(await broker.admin(createRotateRequest('alpha', stranger, next)), 5);
  assert.equal(refusals('admin-bad-signature'), before + 1);
  // ... nor can it pass off the bound public key as its own "current" key in the proof
  const mixed = createRotateRequest(
    'alpha',
    { publicKey: old.publicKey, secretKey: stranger.secretKey },
    next,
  );
  assert.equal(await broker.admin(mixed), 5);
  assert.equal(bound(), hex(old.publicKey));

  // rotating to the key already bound is refused
  assert.equal(await broker.admin(createRotateRequest('alpha', old, old)), 5);

  // the real thing
  const valid = createRotateRequest('alpha', old, next);
  assert.equal(await broker.admin(valid), 0);
  assert.equal(bound(), hex(next.publicKey));

  // a replay of the accepted request changes nothing (the old key no longer counts, the nonce is spent)
  assert.equal(await broker.admin(valid), 5);
  assert.equal(bound(), hex(next.publicKey));
  // rotating back with the old key is refused
  assert.equal(await broker.admin(createRotateRequest('alpha', old, nacl.sign.keyPair())), 5);
  assert.equal(bound(), hex(next.publicKey));

  // the old key can no longer enroll or revoke; the new one can
  before = refusals('admin-bad-signature');
  const oldInvite = refusals('admin-invite-old-key');
  // refused, with the code that lets the joining machine say the invite predates the rotation
  assert.equal(
    await broker.admin(inviteEnrollRequest('intruder', secret(), old.secretKey)),
    CONNACK_INVITE_BEFORE_ROTATION,
  );
  assert.equal(refusals('admin-invite-old-key'), oldInvite + 1, 'an invite signed by the old key');
  assert.equal(await broker.admin(createAdminRequest({ op: 'revoke', name: 'alpha' }, old.secretKey)), 5);
  assert.equal(refusals('admin-bad-signature'), before + 1);
  assert.equal(running.state.machine('intruder'), undefined);
  assert.equal(running.state.machine('alpha')?.revokedAt, null);

  const newcomerSecret = secret();
  assert.equal(await broker.admin(inviteEnrollRequest('newcomer', newcomerSecret, next.secretKey)), 0);
  broker.secrets.set('newcomer', newcomerSecret);
  const client = await broker.connect('newcomer');
  assert.equal(client.connected, true, 'a machine enrolled under the new key logs in');
  // existing enrollments survive a rotation
  const alpha = await broker.connect('alpha');
  assert.equal(alpha.connected, true);
  const logs = broker.logs().join('\n');
  assert.match(logs, /admin-bad-new-key-proof/);
});
