import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { UsageError } from '../../schemas/errors.ts';
import {
  createInviteGrant,
  decodeInvite,
  encodeInvite,
  type Invite,
  verifyInviteGrant,
} from '../../schemas/invite.ts';
import { fromJsonValue, unhex, vectorKeys } from '../../schemas/vectors/keys.ts';

const k = vectorKeys();
const vector = JSON.parse(
  readFileSync(new URL('../../schemas/vectors/invite.json', import.meta.url), 'utf8'),
) as { code: string; input: unknown; grant: unknown };
const NOW = 1_764_000_000_000;

function invite(extra: { name?: string; expires?: number; brokers?: string[] } = {}): Invite {
  const { grant, inviteSeed } = createInviteGrant(extra.name ?? 'laptop', k.network.secretKey, {
    expires: extra.expires ?? NOW + 3_600_000,
    issued: NOW,
  });
  return {
    brokers: extra.brokers ?? ['mqtts://nas.local:8883'],
    fingerprint: `sha256:${'cd'.repeat(32)}`,
    networkPk: k.network.publicKey,
    grant,
    inviteSeed,
  };
}

function line(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof UsageError, String(err));
    const text = err.toLine();
    assert.ok(!text.includes('\n'), 'one line');
    return text;
  }
  assert.fail('accepted');
}

test('golden invite vector decodes to its fields and re-encodes to the same code; no network secret in it', () => {
  const decoded = decodeInvite(vector.code, NOW);
  const input = fromJsonValue(vector.input) as Invite;
  const grant = fromJsonValue(vector.grant) as { name: string; expires: number; nonce: Uint8Array };
  assert.deepEqual(decoded.brokers, input.brokers);
  assert.equal(decoded.fingerprint, input.fingerprint);
  assert.equal(decoded.name, 'laptop');
  assert.equal(decoded.expires, grant.expires);
  assert.deepEqual(decoded.grantFields.nonce, grant.nonce);
  assert.deepEqual(decoded.networkPk, k.network.publicKey);
  assert.equal(encodeInvite(decoded), vector.code);
  // the network seed (05 05 ...) appears nowhere in the code
  const bytes = Buffer.from(vector.code.slice('isaac2-'.length), 'base64url');
  assert.equal(bytes.includes(Buffer.from(unhex('05'.repeat(32)))), false);
  assert.equal(bytes.includes(Buffer.from(k.network.secretKey.subarray(0, 32))), false);
});

test('a grant verifies only against the network key that signed it; an old isaac1- code is refused', () => {
  const { grant } = createInviteGrant('laptop', k.network.secretKey, { expires: NOW + 1, issued: NOW });
  assert.equal(verifyInviteGrant(grant, k.network.publicKey).name, 'laptop');
  assert.throws(() => verifyInviteGrant(grant, k.alice.sign.publicKey), /not signed by this network/);
  const forged = createInviteGrant('laptop', k.alice.sign.secretKey, { expires: NOW + 1, issued: NOW });
  const code = encodeInvite({ ...invite(), grant: forged.grant, inviteSeed: forged.inviteSeed });
  assert.match(
    line(() => decodeInvite(code, NOW)),
    /invite code is not valid: invite grant is not signed/,
  );
  assert.match(
    line(() => decodeInvite('isaac1-AAAA', NOW)),
    /older Isaac \(it carried the network key\)/,
  );
});

test('a code survives copy-paste whitespace and line wrapping', () => {
  const code = encodeInvite(invite());
  const wrapped = `  ${code.slice(0, 40)}\n${code.slice(40, 90)}\r\n ${code.slice(90)} \n`;
  assert.equal(decodeInvite(wrapped, NOW).name, 'laptop');
  assert.equal(code.startsWith('isaac2-'), true);
  assert.ok(code.length < 480, `one line to paste: ${code.length}`);
});

test('every single-character typo and every truncation is caught by the checksum', () => {
  const code = encodeInvite(invite());
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let tried = 0;
  for (let i = 'isaac2-'.length; i < code.length; i++) {
    const replacement = alphabet[(alphabet.indexOf(code[i] as string) + 7) % alphabet.length] as string;
    const typo = code.slice(0, i) + replacement + code.slice(i + 1);
    if (typo === code) continue;
    const sameBytes = Buffer.from(typo.slice(7), 'base64url').equals(Buffer.from(code.slice(7), 'base64url'));
    // the last base64 character carries padding bits; a change there may decode to the same bytes
    if (sameBytes) continue;
    assert.equal(
      line(() => decodeInvite(typo, NOW)),
      'invite code is damaged (checksum): copy it again, the whole line starting with isaac2-',
    );
    tried++;
  }
  assert.ok(tried > 150);
  for (const cut of [10, 50, code.length - 1]) {
    assert.match(
      line(() => decodeInvite(code.slice(0, cut), NOW)),
      /damaged \(checksum\): copy it again/,
    );
  }
  assert.match(
    line(() => decodeInvite(`${code}!`, NOW)),
    /damaged \(checksum\)/,
  );
});

test('not a code, an expired code, and bad inputs give one actionable line', () => {
  assert.match(
    line(() => decodeInvite('hello', NOW)),
    /not an Isaac invite code: .*isaac invite NAME/,
  );
  assert.match(
    line(() => decodeInvite('', NOW)),
    /not an Isaac invite code/,
  );
  const code = encodeInvite(invite({ expires: NOW - 1 }));
  assert.match(
    line(() => decodeInvite(code, NOW)),
    /invite code expired at .*isaac invite laptop/,
  );
  assert.throws(() => encodeInvite(invite({ name: 'Laptop' })), UsageError);
  assert.match(
    line(() => encodeInvite(invite({ name: 'roster' }))),
    /invalid machine name "roster": "roster" is a reserved topic level/,
  );
  assert.throws(() => encodeInvite(invite({ brokers: ['http://x:1'] })), UsageError);
  assert.throws(() => encodeInvite(invite({ brokers: [] })), UsageError);
  assert.equal(
    decodeInvite(encodeInvite(invite({ brokers: ['mqtts://nas'] })), NOW).brokers[0],
    'mqtts://nas:8883',
  );
});
