/** The two streaming framings providers use, read from decoded text chunks. */

/** Server-sent events: `event:` / `data:` lines, blank line between events. */
export async function* sseEvents(
  chunks: AsyncIterable<string>,
): AsyncGenerator<{ event: string; data: string }> {
  let buffer = '';
  let event = '';
  let data: string[] = [];
  const flushLine = function* (line: string): Generator<{ event: string; data: string }> {
    if (line === '') {
      if (data.length > 0) yield { event, data: data.join('\n') };
      event = '';
      data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  };
  for await (const chunk of chunks) {
    buffer += chunk;
    let newline = buffer.search(/\r?\n/);
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(buffer[newline] === '\r' ? newline + 2 : newline + 1);
      yield* flushLine(line);
      newline = buffer.search(/\r?\n/);
    }
  }
  if (buffer !== '') yield* flushLine(buffer);
  yield* flushLine('');
}

/** Newline-delimited JSON (Ollama): one object per line. */
export async function* ndjsonLines(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  let buffer = '';
  for await (const chunk of chunks) {
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) yield line;
      newline = buffer.indexOf('\n');
    }
  }
  if (buffer.trim()) yield buffer.trim();
}
