/** How the SQLite persistence turns packets and records into blobs, and its one not-found error. */
import { deserialize, serialize } from 'node:v8';
import { StoreError } from '../../schemas/errors.ts';
import type { SubscriptionRecord } from './interface.ts';

/** A subscription as stored per client and topic (the topic is the row's key). */
export type StoredRecord = Omit<SubscriptionRecord, 'topic'>;

export function encode(value: unknown): Buffer {
  return serialize(value);
}

export function decode<T>(blob: Buffer): T {
  return deserialize(blob) as T;
}

export function noSuchPacket(): Error {
  return new StoreError('no such packet', { hint: 'the session no longer holds this message id' });
}
