import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject, randomBytes } from 'node:crypto';
import { blake2b } from '@noble/hashes/blake2.js';
import nacl from 'tweetnacl';
import { b64u, KeyObjectCache } from './key-objects.ts';

/**
 * libsodium's `crypto_box_seal` / `crypto_box_seal_open`, byte for byte:
 * a fresh ephemeral X25519 key pair per message, nonce = BLAKE2b-192(epk ‖ recipient pk),
 * ciphertext = crypto_box (X25519 + XSalsa20-Poly1305) from the ephemeral key to the recipient,
 * output = epk ‖ ciphertext. Only the holder of the recipient's secret key can open it, and the
 * box itself says nothing about who sent it (the envelope's signature does that).
 *
 * The X25519 steps run in Node's native crypto (about 20x faster than tweetnacl's JS); HSalsa20
 * and XSalsa20-Poly1305 are tweetnacl's, so the bytes are exactly crypto_box's.
 */
export const SEALED_BOX_OVERHEAD = nacl.box.publicKeyLength + nacl.box.overheadLength; // 32 + 16

export interface BoxKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export function sealedBoxNonce(ephemeralPk: Uint8Array, recipientPk: Uint8Array): Uint8Array {
  const input = new Uint8Array(ephemeralPk.length + recipientPk.length);
  input.set(ephemeralPk, 0);
  input.set(recipientPk, ephemeralPk.length);
  return blake2b(input, { dkLen: nacl.box.nonceLength });
}

/**
 * Seals `message` to `recipientPk`. `ephemeral` exists for golden test vectors only: reusing an
 * ephemeral key pair across messages destroys the scheme's anonymity and freshness.
 */
export function sealBox(message: Uint8Array, recipientPk: Uint8Array, ephemeral?: BoxKeyPair): Uint8Array {
  if (recipientPk.length !== nacl.box.publicKeyLength)
    throw new RangeError('recipient box key must be 32 bytes');
  let epk: Uint8Array;
  let ephemeralKey: KeyObject;
  if (ephemeral) {
    epk = ephemeral.publicKey;
    ephemeralKey = privateKeyObject(ephemeral);
  } else {
    ({ privateKey: ephemeralKey, publicKey: epk } = ephemeralKeyPair());
  }
  const key = sharedKey(ephemeralKey, publicKeyObject(recipientPk));
  if (key === undefined) throw new RangeError('recipient box key is not a usable X25519 key');
  const boxed = nacl.secretbox(message, sealedBoxNonce(epk, recipientPk), key);
  const out = new Uint8Array(epk.length + boxed.length);
  out.set(epk, 0);
  out.set(boxed, epk.length);
  return out;
}

/** Opens a sealed box; undefined when it is too short, not for this key, or tampered with. */
export function openSealedBox(sealed: Uint8Array, recipient: BoxKeyPair): Uint8Array | undefined {
  if (sealed.length < SEALED_BOX_OVERHEAD) return undefined;
  const epk = sealed.subarray(0, nacl.box.publicKeyLength);
  let key: Uint8Array | undefined;
  try {
    key = sharedKey(
      privateKeyObject(recipient),
      createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64u(epk) }, format: 'jwk' }),
    );
  } catch {
    return undefined;
  }
  if (key === undefined) return undefined;
  const opened = nacl.secretbox.open(
    sealed.subarray(nacl.box.publicKeyLength),
    sealedBoxNonce(epk, recipient.publicKey),
    key,
  );
  return opened ?? undefined;
}

const SIGMA = new TextEncoder().encode('expand 32-byte k');
/** tweetnacl exports its primitives as `lowlevel` but its typings omit them. */
const hsalsa20 = (
  nacl as unknown as {
    lowlevel: {
      crypto_core_hsalsa20(out: Uint8Array, input: Uint8Array, k: Uint8Array, c: Uint8Array): void;
    };
  }
).lowlevel.crypto_core_hsalsa20;
const ZERO16 = new Uint8Array(16);

/** crypto_box_beforenm: HSalsa20 of the X25519 shared point; undefined for a low-order key. */
function sharedKey(privateKey: KeyObject, publicKey: KeyObject): Uint8Array | undefined {
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey, publicKey });
  } catch {
    return undefined; // OpenSSL refuses an all-zero shared secret (a low-order public key)
  }
  const key = new Uint8Array(32);
  hsalsa20(key, ZERO16, new Uint8Array(shared), SIGMA);
  return key;
}

/**
 * A fresh X25519 key pair. Not generateKeyPairSync: on Node 20 exporting a key it made can
 * deadlock the process when a garbage collection finalizes the key-generation job in the middle
 * of the export (both take the key's mutex; seen as an isaac process hung in futex_wait). Not a
 * PKCS#8 import either (~9x slower). The JWK needs an `x`; Node derives the public key from `d`,
 * so a placeholder goes in and the derived key is read back (a wrong one could not be opened:
 * the round-trip and libsodium vector tests would fail).
 */
function ephemeralKeyPair(): { privateKey: KeyObject; publicKey: Uint8Array } {
  const privateKey = createPrivateKey({
    key: { kty: 'OKP', crv: 'X25519', d: randomBytes(32).toString('base64url'), x: PLACEHOLDER_X },
    format: 'jwk',
  });
  const x = createPublicKey(privateKey).export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new Error('X25519 public key export gave no x');
  return { privateKey, publicKey: new Uint8Array(Buffer.from(x, 'base64url')) };
}
const PLACEHOLDER_X = Buffer.alloc(32).toString('base64url');

const privateKeys = new KeyObjectCache(256);
const publicKeys = new KeyObjectCache(256);

function privateKeyObject(pair: BoxKeyPair): KeyObject {
  return privateKeys.get(pair.secretKey, () =>
    createPrivateKey({
      key: { kty: 'OKP', crv: 'X25519', d: b64u(pair.secretKey), x: b64u(pair.publicKey) },
      format: 'jwk',
    }),
  );
}

function publicKeyObject(pk: Uint8Array): KeyObject {
  return publicKeys.get(pk, () =>
    createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64u(pk) }, format: 'jwk' }),
  );
}
