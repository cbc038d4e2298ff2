import type { Arg } from './expand.ts';
import type { Tier } from './rules.ts';
import { classifyTarget, describeSensitive, isHiddenPath, sensitiveClass } from './targets.ts';
import { basename, unproven, type Verdict, type Walk } from './walk.ts';

/**
 * The write effect: which files a command writes, empties, replaces, links over or moves away,
 * read from its arguments the way the program reads them (cp's last operand, tee's files, dd's
 * of=, sed -i's files, tar --remove-files' inputs, ...). Every target, and every `>` redirection,
 * is then judged by what the file is: a disk, an account database, a startup file, a key, ...
 */

export type WriteKind = 'overwrite' | 'append' | 'truncate' | 'replace' | 'link' | 'delete' | 'edit';

export interface WriteTarget {
  path: string;
  kind: WriteKind;
  dynamic: boolean;
}

const EMPTY_SOURCES = /^\/dev\/(null|zero)$/;
const HARMLESS_SINKS = /^\/dev\/(null|stdout|stderr|tty|fd\/\d+|pts\/\d+)$|^-$/;

function positionals(args: readonly Arg[], valueOpts: RegExp = /^$/): Arg[] {
  const out: Arg[] = [];
  for (let k = 1; k < args.length; k++) {
    const a = args[k]!;
    if (a.text === '--') return [...out, ...args.slice(k + 1)];
    if (a.text.startsWith('-') && a.text.length > 1) {
      if (valueOpts.test(a.text)) k++;
      continue;
    }
    out.push(a);
  }
  return out;
}

function target(a: Arg, kind: WriteKind): WriteTarget {
  return { path: a.text, kind, dynamic: a.dynamic };
}

function hasShort(args: readonly Arg[], letter: string): boolean {
  return args.some((a) => /^-[A-Za-z]+$/.test(a.text) && a.text.includes(letter));
}

function copyTargets(args: readonly Arg[], sourceKind: WriteKind | undefined): WriteTarget[] {
  const dirOption = args.findIndex((a) => a.text === '-t' || a.text.startsWith('--target-directory'));
  const ops = positionals(args, /^-(t|S|-suffix|-backup|m|o|g|-mode|-owner|-group)$/);
  const out: WriteTarget[] = [];
  let sources = ops;
  if (dirOption >= 0) {
    const a = args[dirOption]!;
    const eq = a.text.indexOf('=');
    const dir = eq >= 0 ? { ...a, text: a.text.slice(eq + 1) } : args[dirOption + 1];
    if (dir) out.push(target(dir, 'replace'));
  } else if (ops.length >= 2) {
    const dest = ops[ops.length - 1]!;
    sources = ops.slice(0, -1);
    const empties = sources.some((s) => EMPTY_SOURCES.test(s.text));
    out.push(target(dest, empties ? 'truncate' : 'replace'));
  } else sources = [];
  if (sourceKind) for (const s of sources) out.push(target(s, sourceKind));
  return out;
}

function inPlaceFiles(args: readonly Arg[], codeOptions: RegExp, scriptFirst: boolean): Arg[] {
  const files: Arg[] = [];
  let haveCode = !scriptFirst;
  for (let k = 1; k < args.length; k++) {
    const a = args[k]!.text;
    if (codeOptions.test(a)) {
      haveCode = true;
      k++;
      continue;
    }
    if (/^-[A-Za-z]*[eE]$/.test(a) && !scriptFirst) {
      k++;
      continue;
    }
    if (a.startsWith('-') && a.length > 1) continue;
    if (!haveCode) haveCode = true;
    else files.push(args[k]!);
  }
  return files;
}

/** What the command writes; empty when it writes nothing this model knows of. */
export function writeTargets(name: string, args: readonly Arg[]): WriteTarget[] {
  switch (name) {
    case 'tee':
      return positionals(args).map((a) => target(a, hasShort(args, 'a') ? 'append' : 'overwrite'));
    case 'cp':
    case 'install':
    case 'rsync':
    case 'scp': {
      const moves = args.some((a) => a.text === '--remove-source-files');
      const out = copyTargets(args, moves ? 'delete' : undefined);
      if (args.some((a) => /^--delete/.test(a.text)))
        for (const t of out) if (t.kind === 'replace') t.kind = 'delete';
      return out;
    }
    case 'mv':
      return copyTargets(args, 'delete');
    case 'ln': {
      const ops = positionals(args, /^-(t|S)$/);
      const kind: WriteKind = hasShort(args, 'f') || args.some((a) => a.text === '--force') ? 'link' : 'edit';
      return ops.length >= 2 ? [target(ops[ops.length - 1]!, kind)] : [];
    }
    case 'dd':
      return args
        .filter((a) => a.text.startsWith('of='))
        .map((a) => ({ path: a.text.slice(3), kind: 'overwrite' as const, dynamic: a.dynamic }));
    case 'truncate':
      return positionals(args, /^-(s|r)$|^--(size|reference)$/).map((a) => target(a, 'truncate'));
    case 'shred':
      return positionals(args, /^-(n|s)$/).map((a) => target(a, 'truncate'));
    case 'sed':
    case 'gsed':
      if (!hasShort(args, 'i') && !args.some((a) => a.text.startsWith('--in-place'))) return [];
      return inPlaceFiles(args, /^(-e|-f|--expression|--file)$/, true).map((a) => target(a, 'edit'));
    case 'perl':
    case 'ruby':
      if (!args.some((a) => /^-[A-Za-z]*i/.test(a.text) && !a.text.startsWith('--'))) return [];
      return inPlaceFiles(args, /^-[A-Za-z]*[eEM]$/, false).map((a) => target(a, 'edit'));
    case 'tar':
    case 'bsdtar': {
      if (!args.some((a) => a.text === '--remove-files')) return [];
      const out: WriteTarget[] = [];
      let k = 1;
      // old style `tar cf ARCHIVE FILES`: the first word is the option letters
      let archiveNext = false;
      if (args[1] && /^[crtuxAdfvzjJpPkh]+$/.test(args[1].text)) {
        archiveNext = args[1].text.includes('f');
        k = 2;
      }
      for (; k < args.length; k++) {
        const a = args[k]!.text;
        if (/^-[A-Za-z]*f$/.test(a) || /^(--file|-C|--directory|-T|--files-from|-X|--exclude-from)$/.test(a))
          k++;
        else if (a.startsWith('-')) continue;
        else if (archiveNext) archiveNext = false;
        else out.push(target(args[k]!, 'delete'));
      }
      return out;
    }
    case 'curl':
    case 'wget': {
      const out: WriteTarget[] = [];
      for (let k = 1; k < args.length; k++) {
        const a = args[k]!.text;
        if (/^(-o|--output|-O|--output-document)$/.test(a) && args[k + 1] && !(name === 'curl' && a === '-O'))
          out.push(target(args[++k]!, 'overwrite'));
        else if (/^--output(-document)?=/.test(a))
          out.push({ path: a.slice(a.indexOf('=') + 1), kind: 'overwrite', dynamic: args[k]!.dynamic });
      }
      return out;
    }
    case 'crontab': {
      const ops = positionals(args, /^-u$/);
      if (args.some((a) => /^-[elr]$/.test(a.text)) || ops.length === 0) return [];
      return [{ path: '/var/spool/cron/crontabs/user', kind: 'replace', dynamic: false }];
    }
    default:
      return [];
  }
}

const VERBS: Record<WriteKind, string> = {
  overwrite: 'overwrites',
  append: 'appends to',
  truncate: 'empties',
  replace: 'replaces',
  link: 'replaces with a link',
  delete: 'moves away or deletes',
  edit: 'edits',
};

/** How bad writing onto this path is; undefined for an ordinary file. */
export function judgeWrite(t: WriteTarget, part: string, walk: Walk, rule: string): Verdict | undefined {
  if (t.dynamic || HARMLESS_SINKS.test(t.path)) return undefined;
  const verb = VERBS[t.kind];
  const v = (tier: Tier, reason: string): Verdict => ({ tier, reason, part, rule });
  const whole = classifyTarget(t.path, walk.cwd);
  if (whole === 'device') return v(4, `writes raw data onto the disk device ${t.path}`);
  if (whole === 'systemfile') return v(4, `${verb} the system file ${t.path}`);
  if ((whole === 'home' || whole === 'root' || whole === 'systemdir') && t.kind !== 'append') {
    if (t.kind !== 'replace' || whole !== 'home')
      return v(
        4,
        `${verb} ${whole === 'home' ? 'the whole home directory' : `the system directory ${t.path}`}`,
      );
  }
  const cls = sensitiveClass(t.path, walk.cwd);
  if (cls === 'account') return v(4, `${verb} ${describeSensitive(cls, t.path)}`);
  if (cls) return v(3, `${verb} ${describeSensitive(cls, t.path)}`);
  return undefined;
}

/** Strict mode: anything but an append to an ordinary visible file is not proven harmless. */
export function strictWrite(t: WriteTarget, part: string, walk: Walk): void {
  if (!walk.strict || HARMLESS_SINKS.test(t.path)) return;
  if (t.dynamic) unproven(walk, part, `writes to a path computed at run time (${t.path})`);
  else if (isHiddenPath(t.path) || sensitiveClass(t.path, walk.cwd))
    unproven(walk, part, `${VERBS[t.kind]} ${t.path}, a dotfile, startup, key or system file`);
  else if (t.kind !== 'append') unproven(walk, part, `${VERBS[t.kind]} ${t.path}, which may hold data`);
}

export function judgeWrites(
  name: string,
  args: readonly Arg[],
  part: string,
  walk: Walk,
): Verdict | undefined {
  let worst: Verdict | undefined;
  for (const t of writeTargets(basename(name), args)) {
    strictWrite(t, part, walk);
    const v = judgeWrite(t, part, walk, `write effect of ${name}`);
    if (v && (!worst || v.tier > worst.tier)) worst = v;
  }
  return worst;
}
