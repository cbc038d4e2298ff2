import { createHash, X509Certificate } from 'node:crypto';
import { ProtocolError } from './errors.ts';

/**
 * The broker certificate pin carried in invites: `sha256:<hex>` of the DER certificate, the same
 * value `openssl x509 -fingerprint -sha256` prints (lower case, no colons). Broker and node both
 * compute it here so they always agree.
 */
export const FINGERPRINT_PREFIX = 'sha256:';

export function certFingerprint(certPem: string | Buffer): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    throw new ProtocolError('not a PEM certificate', { cause: err });
  }
  return fingerprintOfDer(cert.raw);
}

export function fingerprintOfDer(der: Uint8Array): string {
  return `${FINGERPRINT_PREFIX}${createHash('sha256').update(der).digest('hex')}`;
}

/** Normalises user input (`SHA256:AB:CD...`, `sha256:abcd...`) for comparison. */
export function normalizeFingerprint(value: string): string {
  const hex = value
    .replace(/^sha256:/i, '')
    .replace(/:/g, '')
    .toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex))
    throw new ProtocolError(`malformed certificate fingerprint ${JSON.stringify(value)}`);
  return `${FINGERPRINT_PREFIX}${hex}`;
}
