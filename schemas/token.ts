import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * TTL login tokens (DESIGN.md): `v1.<expiry>.<nonce>.<mac>` where expiry is Unix seconds, nonce is
 * 16 random bytes and mac = HMAC-SHA256(machine secret, `name|expiry|nonce`), both base64url.
 * A node mints a fresh token for every (re)connect; the broker verifies it and remembers nonces
 * until their expiry so a captured token cannot be replayed.
 */
export const TOKEN_VERSION = 'v1';
export const DEFAULT_TOKEN_TTL_SECONDS = 120;
/** The broker refuses tokens that claim to live longer than this from now. */
export const MAX_TOKEN_LIFETIME_SECONDS = 600;

export interface MintTokenOptions {
  ttlSeconds?: number;
  nowMs?: number;
  nonce?: Buffer;
}

export function mintToken(name: string, secret: Uint8Array, options: MintTokenOptions = {}): string {
  const nowMs = options.nowMs ?? Date.now();
  const expiry = Math.floor(nowMs / 1000) + (options.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS);
  const nonce = (options.nonce ?? randomBytes(16)).toString('base64url');
  return `${TOKEN_VERSION}.${expiry}.${nonce}.${tokenMac(name, secret, expiry, nonce)}`;
}

function tokenMac(name: string, secret: Uint8Array, expiry: number, nonce: string): string {
  return createHmac('sha256', secret).update(`${name}|${expiry}|${nonce}`).digest('base64url');
}

export type TokenRefusal = 'malformed' | 'bad-mac' | 'expired' | 'far-future';

export type TokenCheck = { ok: true; expiry: number; nonce: string } | { ok: false; reason: TokenRefusal };

const TOKEN_PATTERN = /^v1\.(\d{1,12})\.([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{43})$/;

/** Checks format, MAC and time window. Nonce reuse is the caller's (the broker's) to track. */
export function verifyToken(
  token: string,
  name: string,
  secret: Uint8Array,
  nowMs: number = Date.now(),
): TokenCheck {
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return { ok: false, reason: 'malformed' };
  const [, expiryText, nonce, mac] = match as unknown as [string, string, string, string];
  const expiry = Number(expiryText);
  const expected = Buffer.from(tokenMac(name, secret, expiry, nonce));
  const given = Buffer.from(mac);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'bad-mac' };
  const nowSeconds = Math.floor(nowMs / 1000);
  if (expiry <= nowSeconds) return { ok: false, reason: 'expired' };
  if (expiry > nowSeconds + MAX_TOKEN_LIFETIME_SECONDS) return { ok: false, reason: 'far-future' };
  return { ok: true, expiry, nonce };
}
