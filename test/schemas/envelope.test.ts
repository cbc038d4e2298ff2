import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import sodium from 'libsodium-wrappers';
import nacl from 'tweetnacl';
import { encodeCbor } from '../../schemas/codec.ts';
import {
  type Envelope,
  EnvelopeError,
  type EnvelopeRefusal,
  type OpenOptions,
  openEnvelope,
  type SealInput,
  sealEnvelope,
} from '../../schemas/envelope.ts';
import { ProtocolError } from '../../schemas/errors.ts';
import type { MessageType } from '../../schemas/messages.ts';
import { openSealedBox, sealBox } from '../../schemas/sealedbox.ts';
import { signDetached, verifyDetached } from '../../schemas/sign.ts';
import { DEFAULT_MAX_PAYLOAD } from '../../schemas/topics.ts';
import { fromJsonValue, unhex, vectorKeys } from '../../schemas/vectors/keys.ts';

const k = vectorKeys();
const vectorsDir = new URL('../../schemas/vectors/', import.meta.url);
const envelopeVectors = JSON.parse(readFileSync(new URL('envelope.json', vectorsDir), 'utf8')) as {
  cases: {
    name: string;
    input: unknown;
    nowMs: number;
    id: string;
    ephemeralSecretKey: string;
    bodyBytes: string;
    signature: string;
    payload: string;
    topic: string;
  }[];
};
const boxVectors = JSON.parse(readFileSync(new URL('sealedbox.json', vectorsDir), 'utf8')) as {
  recipientSecretKey: string;
  recipientPublicKey: string;
  cases: { message: string; ephemeralSecretKey: string; nonce: string; sealed: string }[];
};

const NOW = 1_764_000_000_000;
const roster = new Map([
  ['alice', k.alice.sign.publicKey],
  ['bob', k.bob.sign.publicKey],
]);

function bobOptions(extra: Partial<OpenOptions> = {}): OpenOptions {
  return {
    myName: 'bob',
    myBoxKeyPair: k.bob.box,
    topicMachine: 'bob',
    lookupSignPk: (name) => roster.get(name),
    nowMs: NOW,
    ...extra,
  };
}

function aliceToBob<K extends MessageType>(
  input: Omit<SealInput<K>, 'from' | 'to'> & { from?: string; to?: string },
) {
  return sealEnvelope(
    { from: 'alice', to: 'bob', ...input } as SealInput<K>,
    k.alice.sign.secretKey,
    k.bob.box.publicKey,
    NOW,
  );
}

function refusal(fn: () => unknown): EnvelopeRefusal {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof EnvelopeError, `expected EnvelopeError, got ${String(err)}`);
    assert.ok(err instanceof ProtocolError);
    assert.match(err.message, /^envelope refused \(/);
    return err.reason;
  }
  assert.fail('envelope was accepted');
}

/** Seals arbitrary inner bytes the way a hostile member could (valid box, hand-made content). */
function sealRaw(inner: unknown): Uint8Array {
  return sealBox(encodeCbor(inner), k.bob.box.publicKey);
}

function signedRaw(fields: Record<string, unknown>, signKey = k.alice.sign.secretKey): Uint8Array {
  const body = encodeCbor(fields);
  return sealRaw([body, signDetached(body, signKey)]);
}

const goodFields = () => ({
  v: 1,
  id: new Uint8Array(16).fill(7),
  type: 'msg',
  from: 'alice',
  to: 'bob',
  ts: NOW,
  exp: NOW + 60_000,
  body: { text: 'hi' },
});

describe('golden vectors', () => {
  for (const c of envelopeVectors.cases) {
    test(`seal reproduces the committed bytes: ${c.name}`, () => {
      const input = fromJsonValue(c.input) as SealInput<MessageType>;
      const sealed = sealEnvelope(input, k.alice.sign.secretKey, k.bob.box.publicKey, c.nowMs, {
        id: unhex(c.id),
        ephemeral: nacl.box.keyPair.fromSecretKey(unhex(c.ephemeralSecretKey)),
      });
      assert.equal(Buffer.from(sealed.payload).toString('hex'), c.payload);
      assert.equal(sealed.topic, c.topic);
    });

    test(`open accepts the committed bytes: ${c.name}`, () => {
      const input = fromJsonValue(c.input) as SealInput<MessageType>;
      const env = openEnvelope(unhex(c.payload), bobOptions({ nowMs: c.nowMs + 1 }));
      assert.deepEqual(env.id, unhex(c.id));
      assert.equal(env.type, input.type);
      assert.equal(env.from, 'alice');
      assert.equal(env.ts, c.nowMs);
      assert.equal(env.exp, c.nowMs + input.ttlMs);
      assert.deepEqual(env.body, input.body);
      assert.deepEqual(env.corr, input.corr);
      // the signature is plain Ed25519 as tweetnacl computes it, over the committed body bytes
      assert.ok(nacl.sign.detached.verify(unhex(c.bodyBytes), unhex(c.signature), k.alice.sign.publicKey));
      assert.equal(
        Buffer.from(nacl.sign.detached(unhex(c.bodyBytes), k.alice.sign.secretKey)).toString('hex'),
        c.signature,
      );
    });
  }

  for (const [i, c] of boxVectors.cases.entries()) {
    test(`sealed box vector ${i}: ours and libsodium produce and open the same bytes`, async () => {
      await sodium.ready;
      const eph = nacl.box.keyPair.fromSecretKey(unhex(c.ephemeralSecretKey));
      const recipient = nacl.box.keyPair.fromSecretKey(unhex(boxVectors.recipientSecretKey));
      assert.equal(
        Buffer.from(sealBox(unhex(c.message), recipient.publicKey, eph)).toString('hex'),
        c.sealed,
      );
      assert.deepEqual(openSealedBox(unhex(c.sealed), recipient), unhex(c.message));
      const bySodium = sodium.crypto_box_seal_open(unhex(c.sealed), recipient.publicKey, recipient.secretKey);
      assert.deepEqual(new Uint8Array(bySodium), unhex(c.message));
    });
  }
});

describe('libsodium compatibility', () => {
  test('libsodium opens our sealed boxes and we open libsodium’s', async () => {
    await sodium.ready;
    const recipient = nacl.box.keyPair();
    for (const size of [0, 1, 1000, 70_000]) {
      const message = nacl.randomBytes(size);
      const ours = sealBox(message, recipient.publicKey);
      assert.deepEqual(
        new Uint8Array(sodium.crypto_box_seal_open(ours, recipient.publicKey, recipient.secretKey)),
        message,
      );
      const theirs = sodium.crypto_box_seal(message, recipient.publicKey);
      assert.deepEqual(openSealedBox(theirs, recipient), message);
    }
  });

  test('every seal uses a fresh ephemeral key', () => {
    const recipient = nacl.box.keyPair();
    const message = new Uint8Array(16);
    const ephemerals = new Set(
      Array.from({ length: 50 }, () =>
        Buffer.from(sealBox(message, recipient.publicKey).subarray(0, 32)).toString('hex'),
      ),
    );
    assert.equal(ephemerals.size, 50);
    assert.ok(!ephemerals.has('00'.repeat(32)));
  });

  test('a sealed box from a low-order (all-zero) ephemeral key is refused, as libsodium refuses it', async () => {
    await sodium.ready;
    const recipient = nacl.box.keyPair();
    const ours = sealBox(new Uint8Array(10), recipient.publicKey);
    const evil = Uint8Array.from(ours);
    evil.fill(0, 0, 32);
    assert.equal(openSealedBox(evil, recipient), undefined);
    assert.throws(() => sodium.crypto_box_seal_open(evil, recipient.publicKey, recipient.secretKey));
    assert.throws(() => sealBox(new Uint8Array(1), new Uint8Array(32)), RangeError);
  });

  test('native Ed25519 signatures equal tweetnacl’s and verify only for the right key and bytes', () => {
    const kp = nacl.sign.keyPair();
    const message = nacl.randomBytes(300);
    const sig = signDetached(message, kp.secretKey);
    assert.deepEqual(sig, nacl.sign.detached(message, kp.secretKey));
    assert.ok(verifyDetached(message, sig, kp.publicKey));
    assert.equal(verifyDetached(message, sig, nacl.sign.keyPair().publicKey), false);
    const flipped = Uint8Array.from(message);
    flipped[5]! ^= 1;
    assert.equal(verifyDetached(flipped, sig, kp.publicKey), false);
    assert.equal(verifyDetached(message, sig, new Uint8Array(32).fill(0xff)), false);
  });
});

describe('open refuses, with the reason', () => {
  test('a good envelope opens with its typed body', () => {
    const sealed = aliceToBob({
      type: 'exec',
      ttlMs: 60_000,
      body: { cmd: 'ls -la', timeoutMs: 5000, stream: false, cwd: '/tmp' },
    });
    const env: Envelope = openEnvelope(sealed.payload, bobOptions({ topicKind: 'exec' }));
    assert.equal(env.type, 'exec');
    if (env.type === 'exec') assert.equal(env.body.cmd, 'ls -la');
    assert.equal(sealed.topic, 'isaac/bob/exec');
    assert.equal(sealed.exp, NOW + 60_000);
  });

  test('too-large and not-a-box come before any crypto', () => {
    assert.equal(
      refusal(() => openEnvelope(new Uint8Array(DEFAULT_MAX_PAYLOAD + 1), bobOptions())),
      'too-large',
    );
    assert.equal(
      refusal(() => openEnvelope(new Uint8Array(47), bobOptions())),
      'not-a-box',
    );
    assert.equal(
      refusal(() => openEnvelope(new TextEncoder().encode('{"state":"online"}'), bobOptions())),
      'not-a-box',
    );
  });

  test('a flipped bit anywhere, or a box for someone else, fails to decrypt', () => {
    const sealed = aliceToBob({ type: 'msg', ttlMs: 60_000, body: { text: 'secret' } });
    for (const at of [0, 31, 32, 40, sealed.payload.length - 1]) {
      const bad = Uint8Array.from(sealed.payload);
      bad[at]! ^= 0x01;
      assert.equal(
        refusal(() => openEnvelope(bad, bobOptions())),
        'decrypt-failed',
        `bit flip at ${at}`,
      );
    }
    assert.equal(
      refusal(() => openEnvelope(sealed.payload, bobOptions({ myBoxKeyPair: k.alice.box }))),
      'decrypt-failed',
    );
    assert.equal(
      refusal(() => openEnvelope(sealed.payload.subarray(0, 60), bobOptions())),
      'decrypt-failed',
    );
  });

  test('validly sealed garbage is malformed', () => {
    assert.equal(
      refusal(() => openEnvelope(sealBox(new Uint8Array([0xff, 0x00]), k.bob.box.publicKey), bobOptions())),
      'malformed',
    );
    assert.equal(
      refusal(() => openEnvelope(sealRaw({ not: 'a pair' }), bobOptions())),
      'malformed',
    );
    assert.equal(
      refusal(() => openEnvelope(sealRaw([new Uint8Array(3), new Uint8Array(63)]), bobOptions())),
      'malformed',
    );
    const fields = goodFields();
    for (const broken of [
      { ...fields, v: 2 },
      { ...fields, id: new Uint8Array(15) },
      { ...fields, type: 'shutdown' },
      { ...fields, from: 'Alice!' },
      { ...fields, exp: fields.ts - 1 },
      { ...fields, exp: fields.ts + 31 * 24 * 3600 * 1000 },
      { ...fields, corr: 'abc' },
      { ...fields, body: { text: 42 } },
      { ...fields, type: 'exec', body: { cmd: 'ls' } },
    ]) {
      assert.equal(
        refusal(() => openEnvelope(signedRaw(broken), bobOptions())),
        'malformed',
        JSON.stringify(broken.type),
      );
    }
    // the same hand-made envelope with nothing broken opens: the cases above fail for their field
    assert.equal(openEnvelope(signedRaw(goodFields()), bobOptions()).type, 'msg');
  });

  test('a sender not in the roster is unknown; a forged or altered signature is bad', () => {
    const fromCarol = signedRaw({ ...goodFields(), from: 'carol' }, nacl.sign.keyPair().secretKey);
    assert.equal(
      refusal(() => openEnvelope(fromCarol, bobOptions())),
      'unknown-sender',
    );
    // a key not in the roster claiming to be alice
    const forged = signedRaw(goodFields(), nacl.sign.keyPair().secretKey);
    assert.equal(
      refusal(() => openEnvelope(forged, bobOptions())),
      'bad-signature',
    );
    // alice's real signature, but the body swapped after signing
    const body = encodeCbor(goodFields());
    const sig = signDetached(body, k.alice.sign.secretKey);
    const swapped = encodeCbor({ ...goodFields(), body: { text: 'rm -rf ~' } });
    assert.equal(
      refusal(() => openEnvelope(sealRaw([swapped, sig]), bobOptions())),
      'bad-signature',
    );
    // bob signing as alice
    const impostor = sealEnvelope(
      { type: 'msg', from: 'alice', to: 'bob', ttlMs: 60_000, body: { text: 'x' } },
      k.bob.sign.secretKey,
      k.bob.box.publicKey,
      NOW,
    );
    assert.equal(
      refusal(() => openEnvelope(impostor.payload, bobOptions())),
      'bad-signature',
    );
  });

  test('an envelope for another machine, or on another topic, is refused', () => {
    // sealed to bob's box key but addressed to carol: the broker or a member re-routed it
    const toCarol = signedRaw({ ...goodFields(), to: 'carol' });
    assert.equal(
      refusal(() => openEnvelope(toCarol, bobOptions())),
      'wrong-recipient',
    );
    const good = aliceToBob({ type: 'msg', ttlMs: 60_000, body: { text: 'x' } });
    assert.equal(
      refusal(() => openEnvelope(good.payload, bobOptions({ topicMachine: 'carol' }))),
      'topic-mismatch',
    );
    assert.equal(
      refusal(() => openEnvelope(good.payload, bobOptions({ topicKind: 'exec' }))),
      'topic-mismatch',
    );
    assert.equal(openEnvelope(good.payload, bobOptions({ topicKind: 'msg' })).type, 'msg');
  });

  test('time: future beyond skew, expired, and replayed ids', () => {
    const sealed = aliceToBob({ type: 'msg', ttlMs: 60_000, body: { text: 'x' } });
    assert.equal(
      refusal(() => openEnvelope(sealed.payload, bobOptions({ nowMs: NOW - 5 * 60_000 - 1 }))),
      'from-future',
    );
    assert.equal(openEnvelope(sealed.payload, bobOptions({ nowMs: NOW - 5 * 60_000 })).type, 'msg');
    assert.equal(
      refusal(() => openEnvelope(sealed.payload, bobOptions({ nowMs: NOW - 1001, maxSkewMs: 1000 }))),
      'from-future',
    );
    assert.equal(
      refusal(() => openEnvelope(sealed.payload, bobOptions({ nowMs: NOW + 60_000 }))),
      'expired',
    );
    assert.equal(openEnvelope(sealed.payload, bobOptions({ nowMs: NOW + 59_999 })).type, 'msg');
    const seen = new Set<string>();
    const isSeen = (id: Uint8Array) => seen.has(Buffer.from(id).toString('hex'));
    const env = openEnvelope(sealed.payload, bobOptions({ isSeen }));
    seen.add(Buffer.from(env.id).toString('hex'));
    assert.equal(
      refusal(() => openEnvelope(sealed.payload, bobOptions({ isSeen }))),
      'replay',
    );
  });

  test('sealing checks names, ttl, body and the payload cap', () => {
    const key = k.alice.sign.secretKey;
    const seal = (input: SealInput<MessageType>) => sealEnvelope(input, key, k.bob.box.publicKey, NOW);
    assert.throws(
      () => seal({ type: 'msg', from: 'alice', to: 'Bob', ttlMs: 1000, body: { text: 'x' } }),
      ProtocolError,
    );
    assert.throws(
      () => seal({ type: 'msg', from: 'alice', to: 'bob', ttlMs: 0, body: { text: 'x' } }),
      ProtocolError,
    );
    assert.throws(
      () => seal({ type: 'msg', from: 'alice', to: 'bob', ttlMs: 1000, body: { text: 1 } as never }),
      ProtocolError,
    );
    const records = Array.from({ length: 5 }, (_, i) => ({
      origin: 'alice',
      seq: i + 1,
      ts: NOW,
      command: 'x'.repeat(60_000),
    }));
    assert.equal(
      refusal(() =>
        seal({ type: 'history-batch', from: 'alice', to: 'bob', ttlMs: 1000, body: { records } }),
      ),
      'too-large',
    );
  });

  test('two seals of the same input differ (fresh id and ephemeral key) and both open', () => {
    const a = aliceToBob({ type: 'ping', ttlMs: 5000, body: {} });
    const b = aliceToBob({ type: 'ping', ttlMs: 5000, body: {} });
    assert.notDeepEqual(a.id, b.id);
    assert.notDeepEqual(a.payload.subarray(0, 32), b.payload.subarray(0, 32));
    assert.deepEqual(openEnvelope(a.payload, bobOptions()).id, a.id);
    assert.deepEqual(openEnvelope(b.payload, bobOptions()).id, b.id);
  });
});

describe('fuzz', () => {
  test('mutated sealed content never throws anything but an EnvelopeError', () => {
    const body = encodeCbor({ ...goodFields(), corr: new Uint8Array(16), body: { text: 'hello there' } });
    const inner = encodeCbor([body, signDetached(body, k.alice.sign.secretKey)]);
    let seed = 0x9e3779b9;
    const rand = (n: number) => {
      // xorshift32: reproducible, and unlike a power-of-two LCG its low bits are not periodic
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const reasons = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const mutated = Uint8Array.from(i % 10 === 0 ? nacl.randomBytes(rand(400)) : inner);
      if (i % 10 !== 0) {
        for (let j = 0, n = 1 + rand(4); j < n; j++) mutated[rand(mutated.length)] = rand(256);
      }
      const content = rand(5) === 0 ? mutated.subarray(0, rand(mutated.length)) : mutated;
      const unchanged = Buffer.from(content).equals(Buffer.from(inner));
      try {
        openEnvelope(sealBox(content, k.bob.box.publicKey), bobOptions());
        assert.ok(unchanged, `accepted altered content ${Buffer.from(content).toString('hex')}`);
      } catch (err) {
        assert.ok(err instanceof EnvelopeError, `not an EnvelopeError: ${String(err)}`);
        reasons.set(err.reason, (reasons.get(err.reason) ?? 0) + 1);
      }
    }
    assert.ok(
      (reasons.get('malformed') ?? 0) > 100 && (reasons.get('bad-signature') ?? 0) > 100,
      JSON.stringify([...reasons]),
    );
  });
});
