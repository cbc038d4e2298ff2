/**
 * Regenerates the golden vectors: `node --import tsx schemas/vectors/make-vectors.ts`.
 * Only run this on purpose (a wire format change): the tests compare the code against the
 * committed JSON, so regenerating hides any accidental change to the bytes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nacl from 'tweetnacl';
import { decodeCbor } from '../codec.ts';
import { type SealInput, sealEnvelope } from '../envelope.ts';
import { encodeInvite, signInviteGrant } from '../invite.ts';
import type { MessageType } from '../messages.ts';
import { encodeInvitedRosterEntry, encodeRosterEntry } from '../roster.ts';
import { openSealedBox, sealBox, sealedBoxNonce } from '../sealedbox.ts';
import { hex, toJsonValue, unhex, vectorKeys } from './keys.ts';

const dir = fileURLToPath(new URL('.', import.meta.url));
const k = vectorKeys();
const NOW = 1_764_000_000_000;
const fill = (n: number, b: number) => new Uint8Array(n).fill(b);

function envelopeCase<K extends MessageType>(
  name: string,
  input: SealInput<K>,
  nowMs: number,
  idByte: number,
  ephByte: number,
) {
  const id = fill(16, idByte);
  const eph = fill(32, ephByte);
  const sealed = sealEnvelope(input, k.alice.sign.secretKey, k.bob.box.publicKey, nowMs, {
    id,
    ephemeral: nacl.box.keyPair.fromSecretKey(eph),
  });
  const [bodyBytes, signature] = decodeCbor(openSealedBox(sealed.payload, k.bob.box)!) as [
    Uint8Array,
    Uint8Array,
  ];
  return {
    name,
    input: toJsonValue(input),
    nowMs,
    id: hex(id),
    ephemeralSecretKey: hex(eph),
    bodyBytes: hex(bodyBytes),
    signature: hex(signature),
    payload: hex(sealed.payload),
    topic: sealed.topic,
  };
}

const envelopeVectors = {
  description:
    'Isaac envelopes from alice to bob: body = CBOR map, Ed25519 signature by alice over it, CBOR([body, sig]) in a libsodium sealed box to bob’s box key with the given ephemeral secret key. Binary inputs are {"hex": ...}. ts/exp are encoded as CBOR float64 when above 2^32.',
  keys: k.json,
  cases: [
    envelopeCase(
      'exec request',
      {
        type: 'exec',
        from: 'alice',
        to: 'bob',
        ttlMs: 600_000,
        body: { cmd: 'uptime', timeoutMs: 30_000, stream: true },
      },
      NOW,
      0x11,
      0x21,
    ),
    envelopeCase(
      'message with unicode',
      { type: 'msg', from: 'alice', to: 'bob', ttlMs: 3_600_000, body: { text: 'dinner is ready 🍝' } },
      NOW + 1,
      0x12,
      0x22,
    ),
    envelopeCase(
      'refused exec result answering a request',
      {
        type: 'exec-result',
        from: 'alice',
        to: 'bob',
        ttlMs: 600_000,
        corr: fill(16, 0x11),
        body: { exit: 126, durationMs: 0, refused: { reason: 'tier 3 is above remote.max_tier 2', tier: 3 } },
      },
      NOW + 2,
      0x13,
      0x23,
    ),
    envelopeCase(
      'history batch of commands (as every Isaac sends and accepts)',
      {
        type: 'history-batch',
        from: 'alice',
        to: 'bob',
        ttlMs: 600_000,
        body: {
          records: [
            {
              origin: 'alice',
              seq: 7,
              ts: NOW - 5000,
              command: 'make test',
              exit: 0,
              durationMs: 812,
              cwd: '/src',
            },
          ],
          tombstones: [{ origin: 'alice', seq: 6 }],
        },
      },
      NOW + 3,
      0x14,
      0x24,
    ),
    envelopeCase(
      'history batch of AI records (ignored by an Isaac without AI sync)',
      {
        type: 'history-batch',
        from: 'alice',
        to: 'bob',
        ttlMs: 600_000,
        body: {
          records: [],
          ai: [
            {
              origin: 'alice',
              seq: 3,
              ts: NOW - 4000,
              kind: 'ask',
              question: 'find files over 100MB here',
              answer: '```sh\nfind . -size +100M\n```',
              command: 'find . -size +100M',
              provider: 'ollama',
              model: 'llama3.2',
            },
          ],
          aiTombstones: [{ origin: 'alice', seq: 2 }],
        },
      },
      NOW + 4,
      0x15,
      0x25,
    ),
    envelopeCase(
      'sync request with the AI series held',
      {
        type: 'sync-request',
        from: 'alice',
        to: 'bob',
        ttlMs: 600_000,
        body: { have: { alice: 7, bob: 3 }, haveAi: { alice: 3 } },
      },
      NOW + 5,
      0x16,
      0x26,
    ),
  ],
};
writeFileSync(join(dir, 'envelope.json'), `${JSON.stringify(envelopeVectors, null, 2)}\n`);

const boxVectors = {
  description:
    'libsodium crypto_box_seal to bob’s box key with a fixed ephemeral key; nonce = BLAKE2b-192(epk || pk); sealed = epk || box',
  recipientSecretKey: hex(k.bob.box.secretKey),
  recipientPublicKey: hex(k.bob.box.publicKey),
  cases: [
    { message: '', ephByte: 0x31 },
    { message: hex(new TextEncoder().encode('libsodium crypto_box_seal')), ephByte: 0x32 },
  ].map(({ message, ephByte }) => {
    const ephemeral = nacl.box.keyPair.fromSecretKey(fill(32, ephByte));
    return {
      message,
      ephemeralSecretKey: hex(ephemeral.secretKey),
      nonce: hex(sealedBoxNonce(ephemeral.publicKey, k.bob.box.publicKey)),
      sealed: hex(sealBox(Uint8Array.from(Buffer.from(message, 'hex')), k.bob.box.publicKey, ephemeral)),
    };
  }),
};
writeFileSync(join(dir, 'sealedbox.json'), `${JSON.stringify(boxVectors, null, 2)}\n`);
const rosterInputs = [
  { name: 'alice', signPk: k.alice.sign.publicKey, boxPk: k.alice.box.publicKey, added: NOW },
  {
    name: 'bob',
    signPk: k.bob.sign.publicKey,
    boxPk: k.bob.box.publicKey,
    added: NOW,
    revoked: NOW + 60_000,
  },
  {
    name: 'carol',
    signPk: k.alice.sign.publicKey,
    boxPk: k.alice.box.publicKey,
    added: NOW,
    admin: true as const,
  },
];
const rosterVectors = {
  description:
    'roster entries signed by the network key (seed in keys.network): CBOR([entryBytes, Ed25519 signature]); entryBytes = CBOR {v, name, signPk, boxPk, added, revoked?, admin?}',
  keys: k.json,
  cases: rosterInputs.map((entry) => ({
    entry: toJsonValue(entry),
    encoded: hex(encodeRosterEntry(entry, k.network.secretKey)),
  })),
};
writeFileSync(join(dir, 'roster.json'), `${JSON.stringify(rosterVectors, null, 2)}\n`);

const inviteSeed = unhex('06'.repeat(32));
const inviteGrant = {
  v: 1 as const,
  name: 'laptop',
  expires: NOW + 86_400_000,
  issued: NOW,
  nonce: unhex('07'.repeat(16)),
  invitePk: nacl.sign.keyPair.fromSeed(inviteSeed).publicKey,
};
const inviteInput = {
  brokers: ['mqtts://nas.local:8883', 'mqtts://192.168.1.10:8883'],
  fingerprint: `sha256:${'ab'.repeat(32)}`,
  networkPk: k.network.publicKey,
  grant: new Uint8Array(signInviteGrant(inviteGrant, k.network.secretKey)),
  inviteSeed,
};
const inviteVectors = {
  description:
    'invite code: isaac2- + base64url(CBOR [2, brokers, fingerprint bytes, network public key, grant, invite seed] || first 4 bytes of SHA-256 of that CBOR); grant = CBOR([CBOR {v, name, expires, issued, nonce, invitePk}, Ed25519 signature by the network key]). No network secret key.',
  grant: toJsonValue(inviteGrant),
  input: toJsonValue(inviteInput),
  code: encodeInvite(inviteInput),
  /** the entry `laptop` publishes after joining with it: signed by the invite key, grant appended */
  invitedRosterEntry: hex(
    encodeInvitedRosterEntry(
      { name: 'laptop', signPk: k.bob.sign.publicKey, boxPk: k.bob.box.publicKey, added: NOW + 1000 },
      nacl.sign.keyPair.fromSeed(inviteSeed).secretKey,
      signInviteGrant(inviteGrant, k.network.secretKey),
    ),
  ),
};
writeFileSync(join(dir, 'invite.json'), `${JSON.stringify(inviteVectors, null, 2)}\n`);
console.log('wrote envelope.json, sealedbox.json, roster.json and invite.json');
