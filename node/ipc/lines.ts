import type { Socket } from 'node:net';

/** Calls `onLine` with each parsed JSON line from the socket; unparseable lines go to `onBad`. */
export function readJsonLines(
  socket: Socket,
  onLine: (value: unknown) => void,
  onBad?: (line: string) => void,
): void {
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    if (buffer.length > 4 * 1024 * 1024) {
      socket.destroy();
      return;
    }
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim().length === 0) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        onBad?.(line);
        continue;
      }
      onLine(value);
    }
  });
}

export function writeJsonLine(socket: Socket, value: unknown): void {
  if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(value)}\n`);
}
