import { type PeerCertificate, rootCertificates, connect as tlsConnect } from 'node:tls';
import { AuthError, NetworkError, UsageError } from '../../../schemas/errors.ts';
import { fingerprintOfDer, normalizeFingerprint } from '../../../schemas/fingerprint.ts';

/**
 * Pinning the broker's TLS certificate by its SHA-256 fingerprint (DESIGN.md: from the invite).
 *
 * Node only calls `checkServerIdentity` after the chain verified, and with
 * `rejectUnauthorized: false` it would hand our first bytes (the login token, or an admin request
 * with a machine secret) to whoever answered. So the pin is enforced in two layers that both fail
 * closed before anything is sent: the pinned certificate itself is the trust anchor (`ca`) with
 * `rejectUnauthorized: true`, and `checkServerIdentity` compares the presented certificate's
 * fingerprint with the pin. The certificate is fetched once (at init/join) by a probe that sends
 * nothing and keeps it only if its fingerprint matches.
 */
export interface PinnedTlsOptions {
  ca: string[];
  rejectUnauthorized: true;
  checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined;
}

export function pinnedTlsOptions(fingerprint: string, certPem: string): PinnedTlsOptions {
  const pin = normalizeFingerprint(fingerprint);
  return {
    // public roots too, so a broker with a CA-issued certificate also verifies; the pin still decides
    ca: [certPem, ...rootCertificates],
    rejectUnauthorized: true,
    checkServerIdentity: (_host, cert) => {
      const presented = cert.raw ? fingerprintOfDer(cert.raw) : 'none';
      return presented === pin ? undefined : new PinMismatchError(presented, pin);
    },
  };
}

export class PinMismatchError extends AuthError {
  constructor(
    readonly presented: string,
    readonly pinned: string,
    where = 'the broker',
  ) {
    super(`${where} presented certificate ${presented}, not the pinned ${pinned}`, {
      hint: 'this code or fingerprint is for another broker (or the connection is intercepted); compare it with the fingerprint isaac-broker printed',
    });
  }
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Refuses plain mqtt:// to anything but loopback unless the user asked for it explicitly. */
export function assertTransportAllowed(url: string, insecure = false): URL {
  const parsed = new URL(url);
  if (parsed.protocol === 'mqtt:' && !insecure && !isLoopbackHost(parsed.hostname)) {
    throw new UsageError(
      `refusing plain mqtt:// to ${parsed.hostname}: everything including logins would travel unencrypted`,
      {
        hint: 'use mqtts:// with the broker fingerprint, or pass --insecure on a network you trust',
      },
    );
  }
  if (parsed.protocol !== 'mqtt:' && parsed.protocol !== 'mqtts:') {
    throw new UsageError(`unsupported broker URL ${url}`, { hint: 'use mqtts://host:port' });
  }
  return parsed;
}

/**
 * Connects to an mqtts:// broker without sending anything, and returns its certificate (PEM) if
 * its fingerprint matches the pin. NetworkError when unreachable, PinMismatchError otherwise.
 */
export async function fetchPinnedCertificate(
  url: string,
  fingerprint: string,
  timeoutMs = 5000,
): Promise<string> {
  const pin = normalizeFingerprint(fingerprint);
  const parsed = new URL(url);
  const port = Number(parsed.port || 8883);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return await new Promise<string>((resolve, reject) => {
    const socket = tlsConnect({
      host,
      port,
      rejectUnauthorized: false,
      servername: isIp(host) ? undefined : host,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(unreachable(url, new Error('timed out')));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const cert = socket.getPeerCertificate(false);
      socket.destroy();
      if (!cert?.raw) return reject(new AuthError(`the broker at ${url} presented no certificate`));
      const presented = fingerprintOfDer(cert.raw);
      if (presented !== pin) return reject(new PinMismatchError(presented, pin, `the broker at ${url}`));
      resolve(derToPem(cert.raw));
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(unreachable(url, err));
    });
  });
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

/** OpenSSL verification failures: with the pinned certificate as the only private anchor, any of
 * these means the server presented a certificate other than the pinned one. */
const CERT_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|SIGNATURE_FAILURE/;

/**
 * One line for a failed connection: PinMismatchError/AuthError when the certificate was not the
 * pinned one, NetworkError otherwise. For logs and errors of isaac-node and the identity flows.
 */
export function explainConnectError(url: string, err: unknown): AuthError | NetworkError {
  if (err instanceof AuthError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && CERT_ERROR.test(code)) {
    return new AuthError(`the broker at ${url} presented a certificate other than the pinned one (${code})`, {
      hint: 'this code or fingerprint is for another broker (or the connection is intercepted); compare it with the fingerprint isaac-broker printed',
      cause: err,
    });
  }
  return unreachable(url, err);
}

export function unreachable(url: string, cause: unknown): NetworkError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new NetworkError(`cannot reach the broker at ${url} (${detail})`, {
    hint: 'check the address and that isaac-broker runs there; nothing was changed',
    cause,
  });
}

export function derToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
