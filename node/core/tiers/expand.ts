import type { SimpleCommand, Word } from './syntax.ts';

/**
 * Static expansion: what a word will be when the shell runs it, as far as the line itself tells.
 * Variables assigned on the same line, $(echo ...)/$(which ...) substitutions, `echo ... | base64 -d`
 * pipelines and brace expansion are resolved; anything else stays marked dynamic.
 */

export interface Arg {
  text: string;
  dynamic: boolean;
  /** Unquoted glob characters: the shell may turn it into another name. */
  glob?: boolean;
  /** The source word, when this argument is exactly one word of the classified line. */
  word?: Word;
}

export interface ExpandScope {
  vars: Map<string, string>;
  /** Arrays and the positional parameters (`@`) set on the line. */
  arrays?: Map<string, string[]>;
}

/** `"$@"`, `${a[@]}`: a word that is exactly one array expansion becomes its elements. */
function arrayWord(word: Word, scope: ExpandScope): Arg[] | undefined {
  const part = word.parts[0];
  if (!scope.arrays || scope.arrays.size === 0 || word.parts.length !== 1 || part?.kind !== 'var')
    return undefined;
  const name =
    part.name === '@' || part.name === '*' ? '@' : /^\$\{([A-Za-z_]\w*)\[[@*]\]\}$/.exec(part.text)?.[1];
  const elements = name === undefined ? undefined : scope.arrays.get(name);
  return elements?.map((text) => ({ text, dynamic: false }));
}

const MAX_BRACE_RESULTS = 64;

export function braceExpand(text: string): string[] {
  const results: string[] = [];
  const expand = (s: string): void => {
    if (results.length >= MAX_BRACE_RESULTS) return;
    let depth = 0;
    let open = -1;
    for (let k = 0; k < s.length; k++) {
      const c = s[k];
      if (c === '\\') {
        k++;
        continue;
      }
      if (c === '{') {
        if (depth === 0) open = k;
        depth++;
      } else if (c === '}' && depth > 0) {
        depth--;
        if (depth === 0) {
          const body = s.slice(open + 1, k);
          const alternatives = splitTopLevel(body);
          if (alternatives.length > 1) {
            for (const alt of alternatives) expand(s.slice(0, open) + alt + s.slice(k + 1));
            return;
          }
        }
      }
    }
    results.push(s);
  };
  expand(text);
  return results;
}

function splitTopLevel(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let last = 0;
  for (let k = 0; k < body.length; k++) {
    const c = body[k];
    if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(body.slice(last, k));
      last = k + 1;
    }
  }
  out.push(body.slice(last));
  return out;
}

function splitFields(text: string, ifs: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (const c of text) {
    if (ifs.includes(c)) {
      if (current !== '') fields.push(current);
      current = '';
    } else current += c;
  }
  if (current !== '') fields.push(current);
  return fields;
}

export function expandWord(word: Word, scope: ExpandScope): Arg[] {
  if (!word.dynamic) {
    if (!word.brace)
      return [
        word.glob
          ? { text: word.text, dynamic: false, glob: true, word }
          : { text: word.text, dynamic: false, word },
      ];
    const texts = braceExpand(word.text);
    return texts.map((text) =>
      texts.length === 1 ? { text, dynamic: false, word } : { text, dynamic: false },
    );
  }
  const elements = arrayWord(word, scope);
  if (elements) return elements;
  let text = '';
  let dynamic = false;
  let split = false;
  for (const part of word.parts) {
    if (part.kind === 'lit') text += part.text;
    else if (part.kind === 'var') {
      const value = part.name === '' ? undefined : lookupVar(part.name, scope);
      if (value !== undefined) {
        text += value;
        split = true;
      } else {
        text += part.text;
        if (part.name !== 'HOME') dynamic = true;
      }
    } else if (part.kind === 'cmd' && /^[<>]\(/.test(part.text)) {
      // process substitution: the word becomes a path like /dev/fd/63, never the output itself
      text += part.text;
      dynamic = true;
    } else if (part.kind === 'cmd') {
      const out = staticOutput(part.inner, scope);
      if (out !== undefined) {
        text += out.replace(/\n+$/, '');
        split = true;
      } else {
        text += part.text;
        dynamic = true;
      }
    } else {
      text += part.text;
      dynamic = true;
    }
  }
  if (split && !word.quoted) {
    const ifs = scope.vars.get('IFS') ?? ' \t\n';
    const fields = splitFields(text, ifs);
    if (fields.length !== 1) return fields.map((f) => ({ text: f, dynamic }));
  }
  return [{ text, dynamic, word }];
}

function lookupVar(name: string, scope: ExpandScope): string | undefined {
  const value = scope.vars.get(name);
  if (value !== undefined) return value;
  // Unset IFS splits on blanks; `rm${IFS}-rf${IFS}/` is the classic use.
  if (name === 'IFS') return ' ';
  return undefined;
}

export function expandWords(words: readonly Word[], scope: ExpandScope): Arg[] {
  const out: Arg[] = [];
  for (const w of words) for (const a of expandWord(w, scope)) out.push(a);
  return out;
}

function unescapePrintf(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_m, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(Number.parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(Number.parseInt(e, 8));
    return ({ n: '\n', t: '\t', r: '\r', '\\': '\\' } as Record<string, string>)[e] ?? e;
  });
}

const LOOKUP_COMMANDS = new Set(['which', 'whereis', 'type', 'command', 'readlink', 'realpath']);

/** The output of a pipeline whose result is fixed by the line itself, or undefined. */
export function staticOutput(inner: readonly SimpleCommand[], scope: ExpandScope): string | undefined {
  if (inner.length === 0) return '';
  const last = inner[inner.length - 1]!;
  const pipeline = last.pipeline;
  if (!inner.every((c) => pipeline.includes(c))) return undefined;
  return pipelineOutput(pipeline, scope);
}

export function pipelineOutput(
  stages: readonly SimpleCommand[],
  scope: ExpandScope,
  end = stages.length,
): string | undefined {
  let text: string | undefined;
  for (let index = 0; index < end; index++) {
    const stage = stages[index]!;
    if (stage.redirects.length > 0) {
      const here = stage.redirects.find((r) => r.body !== undefined && r.op.startsWith('<<'));
      if (!here || index > 0) return undefined;
      text = `${here.body}\n`;
    }
    const args = expandWords(stage.words, scope);
    if (args.some((a) => a.dynamic)) return undefined;
    const argv = args.map((a) => a.text);
    const name = (argv[0] ?? '').replace(/^.*\//, '');
    const rest = argv.slice(1);
    if (index === 0 && (name === 'echo' || name === 'printf') && text === undefined) {
      if (name === 'echo') {
        let k = 0;
        let escapes = false;
        while (k < rest.length && /^-[neE]+$/.test(rest[k]!)) escapes ||= rest[k++]!.includes('e');
        const joined = rest.slice(k).join(' ');
        text = `${escapes ? unescapePrintf(joined) : joined}\n`;
      } else {
        const [format = '', ...values] = rest;
        let v = 0;
        text = unescapePrintf(format.replace(/%[sbdq]/g, () => values[v++] ?? ''));
        if (v < values.length) text += values.slice(v).join('');
      }
    } else if (index === 0 && LOOKUP_COMMANDS.has(name) && text === undefined) {
      const target = rest.filter((a) => !a.startsWith('-'));
      text = `${target.join('\n')}\n`;
    } else if (index === 0 && name === 'cat' && text !== undefined) {
      // cat <<EOF ... : the here-document is the output.
    } else if (index > 0 && text !== undefined) {
      if (name === 'base64' && rest.some((a) => /^(-d|-D|--decode|-di|-id)$/.test(a))) {
        text = Buffer.from(text.replace(/\s+/g, ''), 'base64').toString('latin1');
      } else if (name === 'rev') {
        text = text
          .split('\n')
          .map((l) => [...l].reverse().join(''))
          .join('\n');
      } else if (name === 'xxd' && rest.includes('-r') && rest.some((a) => a.startsWith('-p'))) {
        text = Buffer.from(text.replace(/[^0-9a-fA-F]/g, ''), 'hex').toString('latin1');
      } else if (name !== 'cat') return undefined;
    } else return undefined;
  }
  return text;
}
