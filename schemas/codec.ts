import { Decoder, Encoder } from 'cbor-x';
import { ProtocolError } from './errors.ts';

/**
 * The one CBOR codec for the wire. Maps decode to plain objects, byte strings to Uint8Array,
 * and no records/structured-clone extensions are used, so any CBOR implementation can read it.
 */
const options = {
  useRecords: false,
  mapsAsObjects: true,
  tagUint8Array: false,
  variableMapSize: true,
} as const;
const encoder = new Encoder(options);
const decoder = new Decoder(options);

export function encodeCbor(value: unknown): Uint8Array {
  return encoder.encode(value);
}

/** Decodes CBOR from outside; anything malformed becomes a ProtocolError, never a crash. */
export function decodeCbor(bytes: Uint8Array): unknown {
  try {
    return decoder.decode(bytes);
  } catch (err) {
    throw new ProtocolError('malformed CBOR payload', { cause: err });
  }
}
