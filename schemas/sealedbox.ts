import { blake2b } from '@noble/hashes/blake2.js';
import nacl from 'tweetnacl';

/**
 * libsodium's `crypto_box_seal` / `crypto_box_seal_open`, byte for byte:
 * a fresh ephemeral X25519 key pair per message, nonce = BLAKE2b-192(epk ‖ recipient pk),
 * ciphertext = crypto_box (X25519 + XSalsa20-Poly1305) from the ephemeral key to the recipient,
 * output = epk ‖ ciphertext. Only the holder of the recipient's secret key can open it, and the
 * box itself says nothing about who sent it (the envelope's signature does that).
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
  const eph = ephemeral ?? nacl.box.keyPair();
  const nonce = sealedBoxNonce(eph.publicKey, recipientPk);
  const boxed = nacl.box(message, nonce, recipientPk, eph.secretKey);
  const out = new Uint8Array(eph.publicKey.length + boxed.length);
  out.set(eph.publicKey, 0);
  out.set(boxed, eph.publicKey.length);
  return out;
}

/** Opens a sealed box; undefined when it is too short, not for this key, or tampered with. */
export function openSealedBox(sealed: Uint8Array, recipient: BoxKeyPair): Uint8Array | undefined {
  if (sealed.length < SEALED_BOX_OVERHEAD) return undefined;
  const epk = sealed.subarray(0, nacl.box.publicKeyLength);
  const nonce = sealedBoxNonce(epk, recipient.publicKey);
  const opened = nacl.box.open(sealed.subarray(nacl.box.publicKeyLength), nonce, epk, recipient.secretKey);
  return opened ?? undefined;
}
