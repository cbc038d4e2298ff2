/** Turns raw terminal input into key names the line editor understands. */
export type Key =
  | { name: 'char'; text: string }
  | { name: 'paste'; text: string }
  | {
      name:
        | 'enter'
        | 'backspace'
        | 'delete'
        | 'left'
        | 'right'
        | 'up'
        | 'down'
        | 'home'
        | 'end'
        | 'tab'
        | 'escape'
        | 'word-left'
        | 'word-right'
        | 'ctrl-a'
        | 'ctrl-b'
        | 'ctrl-c'
        | 'ctrl-d'
        | 'ctrl-e'
        | 'ctrl-f'
        | 'ctrl-g'
        | 'ctrl-k'
        | 'ctrl-l'
        | 'ctrl-r'
        | 'ctrl-t'
        | 'ctrl-u'
        | 'ctrl-w'
        | 'unknown';
    };

const ESCAPES: Record<string, Key['name']> = {
  '\x1b[A': 'up',
  '\x1bOA': 'up',
  '\x1b[B': 'down',
  '\x1bOB': 'down',
  '\x1b[C': 'right',
  '\x1bOC': 'right',
  '\x1b[D': 'left',
  '\x1bOD': 'left',
  '\x1b[H': 'home',
  '\x1bOH': 'home',
  '\x1b[1~': 'home',
  '\x1b[7~': 'home',
  '\x1b[F': 'end',
  '\x1bOF': 'end',
  '\x1b[4~': 'end',
  '\x1b[8~': 'end',
  '\x1b[3~': 'delete',
  '\x1b[1;5D': 'word-left',
  '\x1b[1;5C': 'word-right',
  '\x1bb': 'word-left',
  '\x1bf': 'word-right',
};

const CONTROLS: Record<string, Key['name']> = {
  '\r': 'enter',
  '\n': 'enter',
  '\x7f': 'backspace',
  '\b': 'backspace',
  '\t': 'tab',
  '\x01': 'ctrl-a',
  '\x02': 'ctrl-b',
  '\x03': 'ctrl-c',
  '\x04': 'ctrl-d',
  '\x05': 'ctrl-e',
  '\x06': 'ctrl-f',
  '\x07': 'ctrl-g',
  '\x0b': 'ctrl-k',
  '\x0c': 'ctrl-l',
  '\x12': 'ctrl-r',
  '\x14': 'ctrl-t',
  '\x15': 'ctrl-u',
  '\x17': 'ctrl-w',
};

const PASTE_START = '\x1b[200~';
const PASTE_END = '\x1b[201~';

export function parseKeys(data: string): Key[] {
  const keys: Key[] = [];
  let i = 0;
  while (i < data.length) {
    if (data.startsWith(PASTE_START, i)) {
      const end = data.indexOf(PASTE_END, i);
      const stop = end === -1 ? data.length : end;
      keys.push({ name: 'paste', text: data.slice(i + PASTE_START.length, stop).replace(/\r\n?/g, '\n') });
      i = end === -1 ? data.length : end + PASTE_END.length;
      continue;
    }
    const c = data[i]!;
    if (c === '\x1b') {
      const seq = Object.keys(ESCAPES).find((s) => data.startsWith(s, i));
      if (seq) {
        keys.push({ name: ESCAPES[seq]! } as Key);
        i += seq.length;
        continue;
      }
      const csi = /^\x1b\[[0-9;]*[~A-Za-z]/.exec(data.slice(i));
      if (csi) {
        keys.push({ name: 'unknown' });
        i += csi[0].length;
        continue;
      }
      keys.push({ name: 'escape' });
      i++;
      continue;
    }
    const control = CONTROLS[c];
    if (control) {
      keys.push({ name: control } as Key);
      i++;
      continue;
    }
    if (c < ' ') {
      keys.push({ name: 'unknown' });
      i++;
      continue;
    }
    let j = i;
    while (j < data.length && data[j]! >= ' ' && data[j] !== '\x7f' && data[j] !== '\x1b') j++;
    keys.push({ name: 'char', text: data.slice(i, j) });
    i = j;
  }
  return keys;
}
