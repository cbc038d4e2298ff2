import nacl from 'tweetnacl';

/** The fixed keys every golden vector uses, derived from published seeds (never use them for real). */
export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
export const unhex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'));

export const VECTOR_SEEDS = {
  aliceSign: '01'.repeat(32),
  aliceBox: '02'.repeat(32),
  bobSign: '03'.repeat(32),
  bobBox: '04'.repeat(32),
  network: '05'.repeat(32),
} as const;

export function vectorKeys() {
  const alice = {
    sign: nacl.sign.keyPair.fromSeed(unhex(VECTOR_SEEDS.aliceSign)),
    box: nacl.box.keyPair.fromSecretKey(unhex(VECTOR_SEEDS.aliceBox)),
  };
  const bob = {
    sign: nacl.sign.keyPair.fromSeed(unhex(VECTOR_SEEDS.bobSign)),
    box: nacl.box.keyPair.fromSecretKey(unhex(VECTOR_SEEDS.bobBox)),
  };
  const network = nacl.sign.keyPair.fromSeed(unhex(VECTOR_SEEDS.network));
  const json = {
    alice: {
      signSeed: VECTOR_SEEDS.aliceSign,
      signPk: hex(alice.sign.publicKey),
      boxSk: VECTOR_SEEDS.aliceBox,
      boxPk: hex(alice.box.publicKey),
    },
    bob: {
      signSeed: VECTOR_SEEDS.bobSign,
      signPk: hex(bob.sign.publicKey),
      boxSk: VECTOR_SEEDS.bobBox,
      boxPk: hex(bob.box.publicKey),
    },
    network: { seed: VECTOR_SEEDS.network, pk: hex(network.publicKey) },
  };
  return { alice, bob, network, json };
}

/** JSON form of binary fields inside vector inputs: `{ "hex": "..." }`. */
export function toJsonValue(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v) => (v instanceof Uint8Array ? { hex: hex(v) } : v)));
}

export function fromJsonValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromJsonValue);
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0]?.[0] === 'hex' && typeof entries[0][1] === 'string')
      return unhex(entries[0][1]);
    return Object.fromEntries(entries.map(([k, v]) => [k, fromJsonValue(v)]));
  }
  return value;
}
