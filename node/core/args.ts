import { UsageError } from '../../schemas/errors.ts';

/** Splits a command's argument text like a shell would (quotes, backslashes), without expansion. */
export function splitArgs(text: string): string[] {
  const args: string[] = [];
  let current = '';
  let inToken = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) current += text[++i];
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inToken = true;
    } else if (c === '\\' && i + 1 < text.length) {
      current += text[++i];
      inToken = true;
    } else if (/\s/.test(c)) {
      if (inToken) args.push(current);
      current = '';
      inToken = false;
    } else {
      current += c;
      inToken = true;
    }
  }
  if (quote) throw new UsageError('unterminated quote', { hint: `close the ${quote} quote` });
  if (inToken) args.push(current);
  return args;
}

/** Pulls `--name value` / `--name=value` / boolean `--flag` options out of args. */
export function takeOptions(
  args: string[],
  spec: Record<string, 'string' | 'boolean'>,
): { options: Record<string, string | boolean>; rest: string[] } {
  const options: Record<string, string | boolean> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      if (arg === '--') {
        rest.push(...args.slice(i + 1));
        break;
      }
      rest.push(arg);
      continue;
    }
    const [rawName, inlineValue] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const kind = spec[rawName];
    if (!kind)
      throw new UsageError(`unknown option --${rawName}`, {
        hint: `options: ${Object.keys(spec)
          .map((k) => `--${k}`)
          .join(' ')}`,
      });
    if (kind === 'boolean') {
      options[rawName] = true;
      continue;
    }
    const value = inlineValue ?? args[++i];
    if (value === undefined) throw new UsageError(`--${rawName} needs a value`);
    options[rawName] = value;
  }
  return { options, rest };
}
