import type { KeyObject } from 'node:crypto';

/** Raw key bytes as the base64url a JWK wants. */
export const b64u = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');

/**
 * Node KeyObjects by their raw bytes, oldest dropped past `limit`: importing a key costs about
 * as much as the operation it is for, and a node talks to a handful of keys.
 */
export class KeyObjectCache {
  private readonly keys = new Map<string, KeyObject>();

  constructor(private readonly limit: number) {}

  get(raw: Uint8Array, make: () => KeyObject): KeyObject {
    const id = b64u(raw);
    let found = this.keys.get(id);
    if (found === undefined) {
      if (this.keys.size >= this.limit) this.keys.delete(this.keys.keys().next().value as string);
      found = make();
      this.keys.set(id, found);
    }
    return found;
  }
}
