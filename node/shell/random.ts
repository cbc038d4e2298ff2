import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Random bytes for the shell's start-up path (the pty marker nonce, the session id), read from
 * /dev/urandom: loading node:crypto costs ~2.5 ms, a tenth of what `isaac -c true` may add to a
 * bare `node`. Where there is no /dev/urandom, node:crypto gives them.
 */
export function randomBytesQuick(n: number): Buffer {
  const buf = Buffer.alloc(n);
  try {
    const fd = openSync('/dev/urandom', 'r');
    try {
      for (let got = 0; got < n; ) {
        const read = readSync(fd, buf, got, n - got, null);
        if (read <= 0) throw new Error('short read from /dev/urandom');
        got += read;
      }
    } finally {
      closeSync(fd);
    }
    return buf;
  } catch {
    return process.getBuiltinModule('node:crypto').randomBytes(n);
  }
}

/** A random (version 4) UUID, as crypto.randomUUID() formats it. */
export function randomUuid(): string {
  const b = randomBytesQuick(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
