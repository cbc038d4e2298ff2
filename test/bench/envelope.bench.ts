/**
 * Envelope throughput: seal+sign and open+verify per second for 1 KiB and 64 KiB bodies, with the
 * primitives underneath measured in the same run for reference (Ed25519 via tweetnacl vs native,
 * a bare sealed box). `node --import tsx test/bench/envelope.bench.ts`
 */
import nacl from 'tweetnacl';
import { openEnvelope, sealEnvelope } from '../../schemas/envelope.ts';
import { openSealedBox, sealBox, sealedBoxNonce } from '../../schemas/sealedbox.ts';
import { signDetached, verifyDetached } from '../../schemas/sign.ts';
import { fmt, median } from './stats.ts';

const alice = { sign: nacl.sign.keyPair(), box: nacl.box.keyPair() };
const bob = { sign: nacl.sign.keyPair(), box: nacl.box.keyPair() };
const ROUNDS = 5;

/** Runs `fn` for ~300 ms per round and returns the median operations per second over ROUNDS. */
function opsPerSecond(fn: () => void): number {
  for (let i = 0; i < 20; i++) fn();
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < 300) {
      fn();
      n++;
      elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    }
    rates.push((n * 1000) / elapsed);
  }
  return median(rates);
}

const row = (label: string, rate: number, bytes: number) =>
  process.stdout.write(
    `${label.padEnd(44)} ${fmt(rate, 0).padStart(8)} /s  ${fmt((rate * bytes) / 1048576, 1).padStart(7)} MiB/s\n`,
  );

process.stdout.write(`envelope bench (median of ${ROUNDS} rounds of ~300 ms)\n`);
for (const size of [1024, 64 * 1024]) {
  const text = 'x'.repeat(size);
  const seal = () =>
    sealEnvelope(
      { type: 'msg', from: 'alice', to: 'bob', ttlMs: 60_000, body: { text } },
      alice.sign.secretKey,
      bob.box.publicKey,
    );
  const payload = seal().payload;
  const open = () =>
    openEnvelope(payload, {
      myName: 'bob',
      myBoxKeyPair: bob.box,
      topicMachine: 'bob',
      lookupSignPk: (n) => (n === 'alice' ? alice.sign.publicKey : undefined),
    });
  const label = `${size / 1024} KiB`;
  row(`seal+sign ${label}`, opsPerSecond(seal), size);
  row(`open+verify ${label}`, opsPerSecond(open), size);
  const message = nacl.randomBytes(size);
  const sealed = sealBox(message, bob.box.publicKey);
  row(
    `  reference: sealed box only, seal ${label}`,
    opsPerSecond(() => sealBox(message, bob.box.publicKey)),
    size,
  );
  const openRate = opsPerSecond(() => openSealedBox(sealed, bob.box));
  row(`  reference: sealed box only, open ${label}`, openRate, size);
  // the same crypto_box_seal_open done all in tweetnacl's JS, for the ratio
  const naclOpen = () =>
    nacl.box.open(
      sealed.subarray(32),
      sealedBoxNonce(sealed.subarray(0, 32), bob.box.publicKey),
      sealed.subarray(0, 32),
      bob.box.secretKey,
    );
  const naclRate = opsPerSecond(naclOpen);
  row(`  reference: same open, all tweetnacl ${label}`, naclRate, size);
  process.stdout.write(`  native X25519 speed-up on open: ${fmt(openRate / naclRate, 1)}x\n`);
  const sig = signDetached(message, alice.sign.secretKey);
  row(
    `  reference: Ed25519 sign native ${label}`,
    opsPerSecond(() => signDetached(message, alice.sign.secretKey)),
    size,
  );
  row(
    `  reference: Ed25519 sign tweetnacl ${label}`,
    opsPerSecond(() => nacl.sign.detached(message, alice.sign.secretKey)),
    size,
  );
  row(
    `  reference: Ed25519 verify native ${label}`,
    opsPerSecond(() => verifyDetached(message, sig, alice.sign.publicKey)),
    size,
  );
}
