import type { Arg } from './expand.ts';
import { ruleVerdict } from './rule-verdict.ts';
import { sourceVerdict } from './runners.ts';
import { normalizePath } from './targets.ts';
import { higher, ruleOf, type Site, unproven, type Verdict, via, type Walk } from './walk.ts';
import { SSH_VALUE_OPTIONS, unwrap } from './wrappers.ts';

/**
 * Programs read their own way: eval, source, alias and trap bodies, ssh's remote command,
 * downloads (remembered so running one asks), parallel, at, crontab's input, cd, and the
 * history switches. `undefined` means the program's rules decide.
 */

type Special = (name: string, args: Arg[], site: Site, walk: Walk) => Verdict | undefined;

const joined = (args: readonly Arg[]): string => args.map((a) => a.text).join(' ');

const evalLine: Special = (name, args, site, walk) => {
  const inner = walk.ops.nested(joined(args.slice(1)), walk);
  if (args.some((a) => a.dynamic) && inner.tier < 3) {
    unproven(walk, site.part, 'eval runs a command computed at run time');
    return ruleOf(3, 'evaluates a command computed at run time', site, 'eval of a computed string');
  }
  return via(inner, '', name);
};

const aliasOrTrap: Special = (name, args, site, walk) => {
  let verdict = ruleVerdict(name, args, site, walk);
  const bodies =
    name === 'alias'
      ? args.slice(1).map((a) => a.text.slice(a.text.indexOf('=') + 1))
      : args.slice(1, 2).map((a) => a.text);
  for (const body of bodies)
    if (body) verdict = higher(verdict, via(walk.ops.nested(body, walk), `${name} body: `, name));
  return verdict;
};

const ssh: Special = (name, args, site, walk) => {
  const u = unwrap({ short: SSH_VALUE_OPTIONS, positional: 1 }, args);
  let verdict = ruleVerdict(name, args, site, walk);
  // ProxyCommand and LocalCommand run here, not on the remote machine.
  for (let k = 1; k < args.length - 1; k++) {
    const m =
      args[k]!.text === '-o' ? /^(ProxyCommand|LocalCommand)[= ]\s*(.*)$/is.exec(args[k + 1]!.text) : null;
    if (m?.[2]) verdict = higher(verdict, walk.ops.nested(m[2], walk));
  }
  const inner = u.inner[0]?.text === '--' ? u.inner.slice(1) : u.inner;
  if (inner.length === 0) return verdict;
  unproven(walk, site.part, 'ssh runs a command on another machine');
  const remote = walk.ops.nested(joined(inner), walk);
  const host = args[args.length - u.inner.length - 1]?.text ?? 'the remote machine';
  return higher(verdict, via(remote, `on ${host}: `, 'ssh remote command'));
};

const download: Special = (name, args, _site, walk) => {
  for (let k = 1; k < args.length; k++) {
    const a = args[k]!.text;
    const next = args[k + 1]?.text;
    if ((a === '-o' || a === '-O' || a === '--output' || a === '--output-document') && next && next !== '-') {
      walk.downloaded.add(next);
    } else if (/^--output(-document)?=/.test(a)) walk.downloaded.add(a.slice(a.indexOf('=') + 1));
    else if (name === 'curl' && /^-[a-zA-Z]*o$/.test(a) && next) walk.downloaded.add(next);
    else if (
      /^https?:\/\/[^?#]*\/([^/?#]+)$/.test(a) &&
      (name === 'wget' || args.some((x) => /^-[a-zA-Z]*O$|^--remote-name$/.test(x.text)))
    ) {
      walk.downloaded.add(/\/([^/?#]+)$/.exec(a)![1]!);
    }
  }
  return undefined;
};

const parallel: Special = (name, args, site, walk) => {
  const split = args.findIndex((a) => a.text === ':::' || a.text === '::::');
  const command = args
    .slice(1, split < 0 ? undefined : split)
    .filter((a, k) => k > 0 || !a.text.startsWith('-'));
  const items = split < 0 ? [] : args.slice(split + 1, split + 17);
  const own = ruleVerdict(name, args, site, walk);
  if (command.length === 0) {
    // `parallel ::: 'rm -rf /' ...`: each item is a command line
    let worst = own;
    for (const item of items) worst = higher(worst, walk.ops.nested(item.text, walk));
    return worst;
  }
  let worst = higher(own, walk.ops.evaluate(command, { ...site, topLevel: false }, walk));
  for (const item of items.length > 0 ? items : []) {
    const argv = command.some((a) => a.text.includes('{}'))
      ? command.map((a) => ({ text: a.text.replaceAll('{}', item.text), dynamic: a.dynamic || item.dynamic }))
      : [...command, item];
    worst = higher(worst, walk.ops.evaluate(argv, { ...site, topLevel: false }, walk));
  }
  return worst;
};

const schedule: Special = (name, args, site, walk) => {
  // at reads the job's commands from stdin
  const own = ruleVerdict(name, args, site, walk);
  if (site.stdin !== undefined) return higher(own, walk.ops.nested(site.stdin, walk));
  if (site.piped)
    return higher(own, ruleOf(3, 'schedules whatever another program outputs as commands', site));
  return own;
};

const crontab: Special = (name, args, site, walk) => {
  const own = ruleVerdict(name, args, site, walk);
  if (site.stdin === undefined) return own;
  let worst = own;
  for (const line of site.stdin.split('\n')) {
    const job = /^\s*(?:@\w+|(?:\S+\s+){5})(.+)$/.exec(line);
    if (job?.[1] && !line.trim().startsWith('#'))
      worst = higher(worst, via(walk.ops.nested(job[1], walk), 'a scheduled job ', 'crontab job'));
  }
  return worst;
};

const changeDir: Special = (_name, args, _site, walk) => {
  const target = args[1];
  if (!target) walk.cwd = '~';
  else walk.cwd = target.dynamic ? undefined : normalizePath(target.text, walk.cwd);
  return undefined;
};

const HISTORY_OFF =
  /^(HISTFILE|HISTSIZE|HISTFILESIZE|SAVEHIST)$|^(HISTFILE=(\/dev\/null)?|HISTSIZE=0|HISTFILESIZE=0|SAVEHIST=0)$/;

/** Switching the history off: `unset HISTFILE`, `set +o history`, `HISTFILE=/dev/null`. */
export function historyOff(name: string, args: readonly { text: string }[], site: Site): Verdict | undefined {
  const off =
    (name === 'unset' && args.slice(1).some((a) => HISTORY_OFF.test(a.text))) ||
    (name === 'set' && args.some((a, k) => a.text === '+o' && args[k + 1]?.text === 'history')) ||
    (name === 'shopt' && args.some((a) => a.text === '-u') && args.some((a) => a.text === 'history')) ||
    (name === 'export' && args.slice(1).some((a) => /=/.test(a.text) && HISTORY_OFF.test(a.text))) ||
    (name === '' && args.some((a) => HISTORY_OFF.test(a.text) && a.text.includes('=')));
  return off ? ruleOf(3, 'stops the shell history from being kept', site, 'history switched off') : undefined;
}

const history: Special = (name, args, site) => historyOff(name, args, site);

export const SPECIAL: ReadonlyMap<string, Special> = new Map<string, Special>([
  ['eval', evalLine],
  ['source', (n, a, s, w) => sourceVerdict(n, a, s, w)],
  ['.', (n, a, s, w) => sourceVerdict(n, a, s, w)],
  ['alias', aliasOrTrap],
  ['trap', aliasOrTrap],
  ['ssh', ssh],
  ['curl', download],
  ['wget', download],
  ['parallel', parallel],
  ['at', schedule],
  ['batch', schedule],
  ['crontab', crontab],
  ['cd', changeDir],
  ['pushd', changeDir],
  ['unset', history],
  ['set', history],
  ['shopt', history],
  ['export', history],
]);
