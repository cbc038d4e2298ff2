import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../schemas/errors.ts';
import { certFingerprint } from '../schemas/fingerprint.ts';
import { refuseIfShared } from './private-files.ts';

export const TLS_KEY_FILE = 'tls-key.pem';
export const TLS_CERT_FILE = 'tls-cert.pem';

export interface TlsMaterial {
  key: string;
  cert: string;
  fingerprint: string;
}

/**
 * EC P-256 key + self-signed certificate made with the openssl CLI (nodes pin its fingerprint,
 * so no CA is involved). The subjectAltName lists the names given so ordinary TLS clients that do
 * check the host name still can.
 */
export function generateTls(dataDir: string, hostNames: string[] = ['localhost'], days = 3650): TlsMaterial {
  const keyPath = join(dataDir, TLS_KEY_FILE);
  const certPath = join(dataDir, TLS_CERT_FILE);
  const san = [...new Set([...hostNames, 'localhost'])]
    .map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`))
    .concat('IP:127.0.0.1')
    .join(',');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        keyPath,
        '-out',
        certPath,
        '-days',
        String(days),
        '-subj',
        '/CN=isaac-broker',
        '-addext',
        `subjectAltName=${san}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (err) {
    throw new ConfigError('could not create the TLS key and certificate with openssl', {
      cause: err,
      hint: 'install openssl (apt-get install openssl) and run `isaac-broker init` again',
    });
  }
  return loadTls(dataDir);
}

export function loadTls(dataDir: string): TlsMaterial {
  const keyPath = join(dataDir, TLS_KEY_FILE);
  const certPath = join(dataDir, TLS_CERT_FILE);
  if (!existsSync(keyPath) || !existsSync(certPath)) {
    throw new ConfigError(`no TLS key/certificate in ${dataDir}`, {
      hint: 'run `isaac-broker init --data DIR` first',
    });
  }
  refuseIfShared(dataDir, 'the data directory', 0o700);
  refuseIfShared(keyPath, 'the TLS key', 0o600);
  const key = readFileSync(keyPath, 'utf8');
  const cert = readFileSync(certPath, 'utf8');
  return { key, cert, fingerprint: certFingerprint(cert) };
}
