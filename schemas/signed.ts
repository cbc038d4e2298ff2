import { decodeCbor, encodeCbor } from './codec.ts';
import { ProtocolError } from './errors.ts';
import { signDetached } from './sign.ts';

/**
 * The one signed form of Isaac's small signed objects (admin requests, roster entries, invite
 * grants): CBOR `[body, signature]`, where body is the CBOR of the object and the signature an
 * Ed25519 detached signature over exactly those bytes (so nothing is ever re-encoded to verify).
 * A roster entry made with an invite carries a third element, the invite grant (schemas/roster.ts).
 */
export interface SignedParts {
  body: Uint8Array;
  sig: Uint8Array;
  /** elements after the signature (at most `extra` of them, each a byte string) */
  extra: Uint8Array[];
}

export function encodeSigned(body: Uint8Array, secretKey: Uint8Array, ...extra: Uint8Array[]): Uint8Array {
  return encodeCbor([body, signDetached(body, secretKey), ...extra]);
}

/** Splits `bytes` into body, signature and up to `maxExtra` more byte strings; ProtocolError otherwise. */
export function decodeSigned(bytes: Uint8Array, what: string, maxExtra = 0): SignedParts {
  let outer: unknown;
  try {
    outer = decodeCbor(bytes);
  } catch {
    throw new ProtocolError(`${what} is not CBOR`);
  }
  if (!Array.isArray(outer) || outer.length < 2 || outer.length > 2 + maxExtra)
    throw new ProtocolError(`${what} is not [body, sig]`);
  const [body, sig, ...extra] = outer as unknown[];
  if (
    !(body instanceof Uint8Array) ||
    !(sig instanceof Uint8Array) ||
    sig.length !== 64 ||
    !extra.every((e) => e instanceof Uint8Array)
  ) {
    throw new ProtocolError(`${what} body or signature has the wrong type`);
  }
  return { body, sig, extra: extra as Uint8Array[] };
}

/** The CBOR map inside a signed body; ProtocolError when it is not a map. */
export function decodeBodyMap(body: Uint8Array, what: string): Record<string, unknown> {
  let m: unknown;
  try {
    m = decodeCbor(body);
  } catch {
    throw new ProtocolError(`${what} body is not CBOR`);
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m) || m instanceof Uint8Array)
    throw new ProtocolError(`${what} is not a map`);
  return m as Record<string, unknown>;
}
