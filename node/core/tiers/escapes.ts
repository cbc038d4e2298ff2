import { scanCode } from './code.ts';
import type { Arg } from './expand.ts';
import { classifyTarget } from './targets.ts';
import { higher, ruleOf, type Site, unproven, type Verdict, via, type Walk } from './walk.ts';

/**
 * Tool escapes: options and inputs through which a tool runs a shell command — an editor's
 * `-c '!cmd'`, a git `!` alias or pager, `make --eval`, sqlite3's `.shell`, gdb's `-ex '!cmd'`,
 * socat's EXEC:, netcat's -e, tmux/screen commands, a container with the host's / or ~ mounted.
 * Each command found is classified as a line of its own.
 */

type Escape = (args: readonly Arg[], site: Site, walk: Walk) => Verdict | undefined;

function nestedEscape(text: string, how: string, site: Site, walk: Walk): Verdict {
  unproven(walk, site.part, `${how} runs a command`);
  const inner = walk.ops.nested(text, walk);
  return via({ ...inner, part: inner.part || site.part }, `${how} runs \`${text.trim()}\`, which `, how);
}

function worst(verdicts: (Verdict | undefined)[]): Verdict | undefined {
  let out: Verdict | undefined;
  for (const v of verdicts) if (v && (!out || v.tier > out.tier)) out = v;
  return out;
}

/** An ex/vim command: `!cmd`, `silent !cmd`, `r !cmd`, `call system("cmd")`, `py3 ...`. */
function exCommand(text: string, site: Site, walk: Walk): Verdict | undefined {
  const bang = /^[\s:]*(?:sil(?:ent)?!?\s*)?(?:[.,$%0-9']*\s*)?(?:r(?:ead)?|w(?:rite)?)?\s*!(.*)$/s.exec(
    text,
  );
  if (bang?.[1]) return nestedEscape(bang[1], 'the editor command', site, walk);
  if (
    /\b(system|systemlist|term(inal)?|py3?|python3?|pyx?|lua|perl|ruby|exe(cute)?|call|so(urce)?|!)\b/.test(
      text,
    )
  ) {
    unproven(walk, site.part, 'the editor runs a command or script');
    let code = scanCode(text, site, walk);
    for (const m of text.matchAll(/["']!([^"']+)["']/g))
      code = higher(code, nestedEscape(m[1]!, 'the editor command', site, walk));
    return higher(ruleOf(3, 'the editor command may run programs', site, 'editor command'), code);
  }
  if (/^[\s:]*(wq?|x|sav(eas)?)\b/.test(text) || /^[\s:]*%?d\s*$|normal/.test(text))
    unproven(walk, site.part, 'the editor command changes files');
  return undefined;
}

const editor: Escape = (args, site, walk) => {
  const found: (Verdict | undefined)[] = [];
  for (let k = 1; k < args.length; k++) {
    const a = args[k]!.text;
    if ((a === '-c' || a === '--cmd') && args[k + 1]) found.push(exCommand(args[++k]!.text, site, walk));
    else if (a.startsWith('+') && a.length > 1) found.push(exCommand(a.slice(1), site, walk));
    else if (a === '-S' || a === '-s' || a === '-u')
      unproven(walk, site.part, 'the editor reads commands from a file');
  }
  if (site.stdin !== undefined && args.some((a) => a.text === '-es' || a.text === '-e' || a.text === '-s'))
    for (const line of site.stdin.split('\n')) found.push(exCommand(line, site, walk));
  return worst(found);
};

const emacs: Escape = (args, site, walk) => {
  const exprs = args.filter((_a, k) => k > 0 && /^--?eval$|^-f$|^--funcall$/.test(args[k - 1]!.text));
  if (exprs.length === 0) return undefined;
  unproven(walk, site.part, 'emacs evaluates code');
  return worst(exprs.map((e) => scanCode(e.text, site, walk)));
};

/** Config keys whose value git runs as a shell command. */
const GIT_COMMAND_KEYS =
  /^(alias\..+|core\.(pager|editor|sshcommand|fsmonitor|askpass|hookspath)|sequence\.editor|diff\.external|diff\..+\.(textconv|command)|merge\..+\.driver|filter\..+\.(clean|smudge|process)|credential\.helper|gpg(\..+)?\.program|pager\..+|uploadpack\.packobjectshook|.+\.(cmd|command|tool|program))$/i;
const GIT_SAFE_KEYS =
  /^(color\..+|user\.(name|email)|log\..+|format\.pretty|core\.quotepath|advice\..+|column\..+|i18n\..+|init\.defaultbranch|safe\.directory|diff\.(renames|algorithm|colormoved)|pull\.rebase|push\.default)$/i;

function gitConfigValue(
  key: string,
  value: string,
  sub: string | undefined,
  site: Site,
  walk: Walk,
): Verdict | undefined {
  if (!GIT_SAFE_KEYS.test(key))
    unproven(walk, site.part, `git runs with the setting ${key}, which the policy cannot vouch for`);
  if (!GIT_COMMAND_KEYS.test(key)) return undefined;
  if (/^alias\./i.test(key)) {
    const name = key.slice(6);
    if (value.startsWith('!')) return nestedEscape(value.slice(1), `the git alias ${name}`, site, walk);
    if (sub === name)
      return via(walk.ops.nested(`git ${value}`, walk), `the git alias ${name}: `, 'git alias');
    return undefined;
  }
  const v = nestedEscape(value, `git's ${key}`, site, walk);
  return v.tier < 2 ? { ...v, tier: 2 } : v;
}

const git: Escape = (args, site, walk) => {
  const found: (Verdict | undefined)[] = [];
  const settings: [string, string][] = [];
  let k = 1;
  for (; k < args.length; k++) {
    const a = args[k]!.text;
    if (a === '-c' && args[k + 1]) {
      const kv = args[++k]!.text;
      const eq = kv.indexOf('=');
      settings.push(eq < 0 ? [kv, 'true'] : [kv.slice(0, eq), kv.slice(eq + 1)]);
    } else if (/^(-C|--git-dir|--work-tree|--namespace|--exec-path|--config-env)$/.test(a)) {
      if (a === '--exec-path' || a === '--config-env')
        unproven(walk, site.part, `git ${a} changes what git runs`);
      k++;
    } else if (!a.startsWith('-')) break;
  }
  const sub = args[k]?.text;
  for (const [key, value] of settings) found.push(gitConfigValue(key, value, sub, site, walk));
  if (sub === 'config') {
    const rest = args.slice(k + 1).filter((a) => !a.text.startsWith('-'));
    if (rest.length >= 2) {
      const key = rest[0]!.text;
      const setting = gitConfigValue(key, rest[1]!.text, undefined, site, walk);
      if (setting && GIT_COMMAND_KEYS.test(key)) {
        const defined = ruleOf(
          3,
          `sets ${key}, a command git will run later`,
          site,
          'git config of a command',
        );
        found.push(higher(defined, setting));
      }
    }
  }
  return worst(found);
};

function makeRecipes(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const rule = /^[^:=\t#]+::?[^=;]*;(.*)$/.exec(line);
    if (rule?.[1]) out.push(rule[1]);
    else if (line.startsWith('\t')) out.push(line.slice(1));
    for (const m of line.matchAll(/\$\(shell\s+([^)]*)\)/g)) out.push(m[1]!);
  }
  return out.map((r) => r.replace(/^[@+-]+/, '')).filter((r) => r.trim() !== '');
}

const make: Escape = (args, site, walk) => {
  const texts: string[] = [];
  for (let k = 1; k < args.length; k++) {
    const a = args[k]!.text;
    if (a.startsWith('--eval=')) texts.push(a.slice(7));
    else if ((a === '--eval' || a === '-E') && args[k + 1]) texts.push(args[++k]!.text);
    else if (/^SHELL=/.test(a)) unproven(walk, site.part, 'make is told which shell to use');
    else if ((a === '-f' || a === '--file' || a === '--makefile') && args[k + 1]?.text === '-' && site.stdin)
      texts.push(site.stdin);
  }
  return worst(texts.flatMap(makeRecipes).map((r) => nestedEscape(r, 'a make recipe', site, walk)));
};

const sqlite: Escape = (args, site, walk) => {
  const texts = [...args.slice(1).map((a) => a.text), ...(site.stdin === undefined ? [] : [site.stdin])];
  const found: (Verdict | undefined)[] = [];
  for (const text of texts) {
    for (const m of text.matchAll(/(?:^|[\n;])\s*\.(?:shell|system)\s+([^\n]*)/g))
      found.push(nestedEscape(m[1]!, 'sqlite3 .shell', site, walk));
    for (const m of text.matchAll(/(?:^|[\n;])\s*\.(?:output|once|import|read)\s+['"]?\|([^\n'"]*)/g))
      found.push(nestedEscape(m[1]!, 'a sqlite3 pipe', site, walk));
    if (/(?:^|[\n;])\s*\.(output|once|save|backup|restore|import|load|read)\b/.test(text))
      unproven(walk, site.part, 'sqlite3 reads or writes files with a dot command');
  }
  if (site.piped && site.stdin === undefined) unproven(walk, site.part, 'sqlite3 reads commands from a pipe');
  return worst(found);
};

const gdb: Escape = (args, site, walk) => {
  const found: (Verdict | undefined)[] = [];
  for (let k = 1; k < args.length; k++) {
    const a = args[k]!.text;
    let cmd: string | undefined;
    if (/^-{1,2}(ex|iex|eval-command|init-eval-command)$/.test(a)) cmd = args[++k]?.text;
    else if (/^--(eval-command|init-eval-command)=/.test(a)) cmd = a.slice(a.indexOf('=') + 1);
    else if (/^-{1,2}(x|ix|command|init-command)$/.test(a))
      unproven(walk, site.part, 'gdb runs a command file');
    if (cmd === undefined) continue;
    unproven(walk, site.part, 'gdb is given commands');
    const shell = /^\s*(?:!|shell\s+|pipe\s+[^|]*\|)(.*)$/s.exec(cmd);
    if (shell?.[1]) found.push(nestedEscape(shell[1], 'a gdb shell command', site, walk));
    else if (/^\s*(python|py|pi|guile|gu|call|print|p)\b/.test(cmd)) found.push(scanCode(cmd, site, walk));
  }
  return worst(found);
};

const socat: Escape = (args, site, walk) => {
  const found: (Verdict | undefined)[] = [];
  for (const a of args.slice(1)) {
    const m = /^(?:EXEC|SYSTEM):(.*)$/is.exec(a.text);
    if (m) found.push(nestedEscape(m[1]!.replace(/,(?=[a-z-]+(=|,|$))[\s\S]*$/, ''), 'socat', site, walk));
    else if (/^(OPEN|CREATE|GOPEN):/i.test(a.text)) unproven(walk, site.part, 'socat writes a file');
  }
  return worst(found);
};

const netcat: Escape = (args, site, walk) => {
  for (let k = 1; k < args.length; k++) {
    const a = args[k]!.text;
    if (/^(-e|-c|--exec|--sh-exec|--lua-exec)$/.test(a) && args[k + 1]) {
      const inner = nestedEscape(args[k + 1]!.text, 'netcat', site, walk);
      return higher(ruleOf(3, 'gives whoever connects a program to talk to', site, 'netcat -e'), inner);
    }
  }
  return undefined;
};

const TMUX_RUNS = new Set([
  'new',
  'new-session',
  'new-window',
  'neww',
  'split-window',
  'splitw',
  'run-shell',
  'run',
  'respawn-pane',
  'respawn-window',
  'send-keys',
  'send',
  'display-popup',
  'popup',
]);

const tmux: Escape = (args, site, walk) => {
  const sub = args.findIndex((a, k) => k > 0 && TMUX_RUNS.has(a.text));
  if (sub < 0) return undefined;
  const rest: string[] = [];
  for (let k = sub + 1; k < args.length; k++) {
    const a = args[k]!.text;
    if (/^-[tscnFeFxyw]$/.test(a)) k++;
    else if (!a.startsWith('-')) rest.push(a);
  }
  if (rest.length === 0) return undefined;
  const line = args[sub]!.text.startsWith('send')
    ? rest.filter((r) => !/^(Enter|C-m|KPEnter)$/.test(r)).join(' ')
    : rest.join(' ');
  return nestedEscape(line, 'tmux', site, walk);
};

const screen: Escape = (args, site, walk) => {
  let k = 1;
  for (; k < args.length && args[k]!.text.startsWith('-'); k++) if (/^-[SclpTXe]$/.test(args[k]!.text)) k++;
  if (k >= args.length) return undefined;
  unproven(walk, site.part, 'screen starts a command');
  return walk.ops.evaluate(args.slice(k), { ...site, topLevel: false }, walk);
};

/** Host paths a container sees: `-v /:/host` means `/host/etc` in the container is `/etc` here. */
function hostMounts(args: readonly Arg[]): { from: string; to: string; readOnly: boolean }[] {
  const mounts: { from: string; to: string; readOnly: boolean }[] = [];
  for (let k = 1; k < args.length; k++) {
    const a = args[k]!.text;
    let spec: string | undefined;
    if (a === '-v' || a === '--volume' || a === '--mount') spec = args[++k]?.text;
    else if (/^(--volume|--mount)=/.test(a)) spec = a.slice(a.indexOf('=') + 1);
    else if (/^-v./.test(a)) spec = a.slice(2);
    if (!spec) continue;
    if (spec.includes('=')) {
      const f = Object.fromEntries(spec.split(',').map((p) => [p.split('=')[0], p.split('=')[1] ?? 'true']));
      const from = f['source'] ?? f['src'];
      const to = f['target'] ?? f['destination'] ?? f['dst'];
      if (from && to) mounts.push({ from, to, readOnly: f['readonly'] === 'true' || f['ro'] === 'true' });
    } else {
      const [from, to, opts] = spec.split(':');
      if (from && to) mounts.push({ from, to, readOnly: /\bro\b/.test(opts ?? '') });
    }
  }
  return mounts;
}

const CONTAINER_VALUE_OPTS =
  /^(-v|--volume|--mount|-e|--env|--env-file|--name|-p|--publish|-w|--workdir|-u|--user|--network|--net|--entrypoint|-h|--hostname|--label|-l|--platform|--pull|--restart|-m|--memory|--cpus|--device|--cap-add|--cap-drop|--security-opt|--add-host|--dns|--ipc|--pid|--userns|--uts|--log-driver|--log-opt|--tmpfs|--ulimit|--gpus|--runtime|--shm-size|--cidfile|--volumes-from|--link|--expose|--group-add|--health-cmd|--stop-signal|--stop-timeout)$/;

const container: Escape = (args, site, walk) => {
  const run = args.findIndex((a, k) => k > 0 && /^(run|create)$/.test(a.text));
  if (run < 0) return undefined;
  const mounts = hostMounts(args).filter((m) => {
    const cls = classifyTarget(m.from, walk.cwd);
    return cls === 'root' || cls === 'home' || cls === 'systemdir';
  });
  const privileged = args.some((a) => /^--privileged$|^--pid=host$/.test(a.text));
  if (mounts.length === 0 && !privileged) return undefined;
  unproven(walk, site.part, "the container sees this machine's own files");
  let k = run + 1;
  for (; k < args.length && args[k]!.text.startsWith('-'); k++)
    if (CONTAINER_VALUE_OPTS.test(args[k]!.text)) k++;
  let command = args
    .slice(k + 1)
    .map((a) => (/^[\w@%+=:,./~-]+$/.test(a.text) ? a.text : `'${a.text.replace(/'/g, `'\\''`)}'`))
    .join(' ');
  for (const m of mounts) {
    const to = m.to.replace(/\/+$/, '');
    const from = m.from.replace(/\/+$/, '');
    command = command
      .replace(
        new RegExp(`(^|[\\s'"=])${to.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=/|[\\s'"]|$)`, 'g'),
        `$1${from || '/'}`,
      )
      .replace(/(^|[\s'"=])\/\//g, '$1/');
  }
  const writable = mounts.some((m) => !m.readOnly && classifyTarget(m.from, walk.cwd) === 'root');
  const floor =
    writable || privileged
      ? ruleOf(
          3,
          "runs a container with this machine's root filesystem or processes at hand",
          site,
          'container host mount',
        )
      : ruleOf(2, 'runs a container with host files mounted', site, 'container host mount');
  if (command.trim() === '') return floor;
  return higher(
    floor,
    via(walk.ops.nested(command, walk), 'in a container with host files mounted: ', 'container host mount'),
  );
};

/** `less '+!cmd'`, `man -P cmd`: a pager's start command or the pager itself is a shell command. */
const pager: Escape = (args, site, walk) => {
  for (let k = 1; k < args.length; k++) {
    const a = args[k]!.text;
    const bang = /^\+\+?!(.+)$/s.exec(a);
    if (bang) return nestedEscape(bang[1]!, 'the pager command', site, walk);
    const value = a === '-P' || a === '--pager' ? args[k + 1]?.text : /^--pager=(.*)$/s.exec(a)?.[1];
    if (value) return nestedEscape(value, 'the pager', site, walk);
  }
  return undefined;
};

export const ESCAPES: ReadonlyMap<string, Escape> = new Map<string, Escape>([
  ['less', pager],
  ['more', pager],
  ['man', pager],
  ...['vi', 'vim', 'nvim', 'view', 'ex', 'vimdiff', 'gvim', 'rvim', 'nvi', 'elvis'].map(
    (n) => [n, editor] as [string, Escape],
  ),
  ['emacs', emacs],
  ['git', git],
  ['make', make],
  ['gmake', make],
  ['sqlite3', sqlite],
  ['sqlite', sqlite],
  ['gdb', gdb],
  ['socat', socat],
  ...['nc', 'ncat', 'netcat'].map((n) => [n, netcat] as [string, Escape]),
  ['tmux', tmux],
  ['screen', screen],
  ...['docker', 'podman', 'nerdctl'].map((n) => [n, container] as [string, Escape]),
]);
