import { type Arg, expandWords, pipelineOutput } from './expand.ts';
import type { SimpleCommand, Word } from './syntax.ts';
import { basename, type Verdict, type Walk } from './walk.ts';
import { judgeWrite, strictWrite, type WriteKind } from './writes.ts';

/**
 * Redirections as effects: `>` and `>>` write, empty or append to their target (judged like any
 * other write), `curl URL > x.sh` leaves a script nobody has read, and `printf TEXT > x.sh`
 * leaves a script whose text the line fixes (running it later on the line runs that text).
 */

const WRITE_OPS: Record<string, WriteKind> = {
  '>': 'overwrite',
  '>|': 'overwrite',
  '&>': 'overwrite',
  '<>': 'overwrite',
  '>&': 'overwrite',
  '>>': 'append',
  '&>>': 'append',
};

export function redirectVerdict(
  op: string,
  target: Word | undefined,
  part: string,
  walk: Walk,
  args: readonly Arg[],
): Verdict {
  const none: Verdict = { tier: 1, reason: 'redirects output', part, rule: 'redirection' };
  const kind = WRITE_OPS[op];
  if (!target || !kind) return none;
  const [arg] = expandWords([target], walk);
  if (!arg || /^\d+$|^-$/.test(arg.text)) return none;
  if (kind === 'overwrite' && args.length === 0) walk.downloaded.delete(arg.text);
  // `curl URL > i.sh` leaves a script nobody has read
  if (args[0] && /^(curl|wget)$/.test(basename(args[0].text))) walk.downloaded.add(arg.text);
  const empties =
    kind === 'overwrite' &&
    (args.length === 0 || /^(:|true|false|echo -n|cat \/dev\/null)$/.test(args.map((a) => a.text).join(' ')));
  const t = { path: arg.text, kind: empties ? ('truncate' as const) : kind, dynamic: arg.dynamic };
  strictWrite(t, part, walk);
  return judgeWrite(t, part, walk, `redirection ${op}`) ?? none;
}

/** `printf 'rm -rf ~' > x.sh`: running x.sh later on the line runs that text. */
export function rememberWritten(cmd: SimpleCommand, walk: Walk): void {
  const out = cmd.redirects.filter((r) => r.op === '>' || r.op === '>>' || r.op === '>|');
  if (out.length === 0 || cmd.words.length === 0) return;
  const input = cmd.redirects.filter((r) => r.op.startsWith('<<'));
  const text = pipelineOutput([{ ...cmd, redirects: input }], walk);
  for (const r of out) {
    const [target] = r.target ? expandWords([r.target], walk) : [];
    if (!target || target.dynamic) continue;
    if (text === undefined) walk.written.delete(target.text);
    else walk.written.set(target.text, r.op === '>>' ? (walk.written.get(target.text) ?? '') + text : text);
  }
}
