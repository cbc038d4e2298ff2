import { type Arg, staticOutput } from './expand.ts';
import { classifyTarget, describeSensitive, sensitiveClass } from './targets.ts';
import {
  basename,
  higher,
  isDownloaded,
  ruleOf,
  type Site,
  unproven,
  type Verdict,
  via,
  type Walk,
  writtenText,
} from './walk.ts';

/**
 * The runs-code effect of interpreters (python, perl, node, ruby, php, lua, awk, ...): code given
 * on the line is scanned for what it can do to the machine (delete, write, start programs, fork),
 * the literal strings it hands to a shell are classified as lines of their own, and code that
 * cannot be seen (a process substitution of a download, a pipe, a variable) asks.
 */

/** Per interpreter: the options whose value is code (`-c`, `-e`), or '' when the first operand is. */
const CODE_OPTIONS: Record<string, string> = {
  python: 'c',
  python2: 'c',
  python3: 'c',
  pypy: 'c',
  pypy3: 'c',
  perl: 'eE',
  ruby: 'e',
  node: 'ep',
  nodejs: 'ep',
  bun: 'ep',
  php: 'rBRFE',
  lua: 'e',
  luajit: 'e',
  Rscript: 'e',
  julia: 'e',
  osascript: 'e',
  tclsh: '',
  awk: '',
  gawk: '',
  mawk: '',
  nawk: '',
  busybox: '',
};
export const INTERPRETERS: ReadonlyMap<string, string> = new Map(Object.entries(CODE_OPTIONS));
const LONG_CODE = /^--(eval|print|command)(=|$)/;
const AWK = new Set(['awk', 'gawk', 'mawk', 'nawk']);

const DELETES =
  /\b(rmtree|rm_rf|rm_r|rm_f|remove_tree|removedirs|rmSync|rmdirSync|unlinkSync|unlink|rmdir|rimraf|delete-directory|delete-file)\b|\b(os|fs|FileUtils|File|Dir|Path|shutil|file|io|fsp|promises)\s*\.\s*(remove|rm|delete|unlink|rmdir|truncate)\w*|\.unlink\s*\(|\.rmdir\s*\(/;
const SPAWNS =
  /(?<![\w.$])(system|systemlist|exec[lv]?p?e?|popen[23]?|spawn\w*|execSync|execFile\w*|shell_exec|passthru|proc_open|pcntl_exec|subprocess|child_process|Popen|check_output|check_call|getoutput|getstatusoutput|Open3|qx|shell-command|call-process|start-process)\b|\b(os|Kernel|IO|Open3|subprocess|pty|commands|POSIX|io)\.(system|popen\w*|exec\w*|spawn\w*|run|call|check_\w+|getoutput|Popen|capture\w*|execute)\b|\)\s*\.\s*(system|popen\w*|spawn\w*|exec[lv]?p?e?|execSync)\s*\(|do\s+shell\s+script|`[^`]*`|%x[({[]|\|\s*getline|\|\s*&|print[^;}]*\|\s*["'\w]/;
const FORKS = /\b(fork|pcntl_fork|forkpty)\b/;
const LOOPS = /\b(while|for|loop|until|repeat|redo|goto)\b|iter\s*\(|\.times\b|setInterval|\bdo\s*\{/;
const WRITES =
  /\bopen\s*\(.*?,\s*["'][wa+]|>>?\s*["$]|writeFile|appendFile|write_text|write_bytes|File\.(write|open)|IO\.write|file_put_contents|io\.open\s*\([^)]*["'][wa]|print\s*>>?|printf\s*>>?/;
const HOME_EXPR =
  /expanduser\(\s*["']~\/?["']\s*\)|Path\.home\(\)|homedir\(\)|Dir\.home|\$ENV\{\s*["']?HOME["']?\s*\}|environ(\.get\(|\[)\s*["']HOME["']\s*[\])]|ENV\[\s*["']HOME["']\s*\]|getenv\(\s*["']HOME["']\s*\)|process\.env(\.HOME|\[["']HOME["']\])|\$_SERVER\[["']HOME["']\]|ENVIRON\[\s*"HOME"\s*\]|expand_path\(\s*["']~["']\s*\)|\$HOME\b|["']~\/?["']/g;

/** The code an interpreter is given on the line, or how it gets code it cannot show. */
function codeArg(name: string, args: readonly Arg[]): Arg | 'script' | 'stdin' | undefined {
  const letters = INTERPRETERS.get(name) ?? '';
  for (let k = 1; k < args.length; k++) {
    const a = args[k]!.text;
    if (a === '--') return args[k + 1] ? 'script' : 'stdin';
    if (a === '-') return 'stdin';
    if (LONG_CODE.test(a)) {
      const eq = a.indexOf('=');
      return eq >= 0 ? { ...args[k]!, text: a.slice(eq + 1) } : args[k + 1];
    }
    if (/^-[A-Za-z]+$/.test(a)) {
      const hit = letters !== '' && [...a.slice(1)].some((l) => letters.includes(l));
      if (hit) return args[k + 1];
      if (AWK.has(name) && /[fvF]$/.test(a)) {
        if (a.endsWith('f')) return 'script';
        k++;
      } else if (/^-[mMWXI]$/.test(a) || (name === 'php' && a === '-d')) k++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return letters === '' && AWK.has(name) ? args[k] : args[k] && args[k]!.dynamic ? args[k] : 'script';
  }
  return 'stdin';
}

/** Paths a piece of code names: its string literals, and expressions for the home directory. */
function codeTargets(code: string): string[] {
  const out: string[] = [];
  for (const m of code.matchAll(HOME_EXPR)) {
    const after = code.slice((m.index ?? 0) + m[0].length).replace(/^[)\s}]*/, '');
    // `home() / "x"`, os.path.join(home, "x"), home + "/x", home.."/x": a path under home
    const joined = /^(?:\/|\+|\.\.?|,)\s*["']([^"']*)["']/.exec(after);
    // inside an interpolated string: "$ENV{HOME}/.profile", `${homedir()}/.bashrc`
    const inline = /^(\/[^\s"'`),;]+)/.exec(code.slice((m.index ?? 0) + m[0].length).replace(/^\}/, ''));
    const rest = joined?.[1] ?? inline?.[1];
    out.push(rest === undefined ? '~' : `~/${rest.replace(/^\/+/, '')}`);
  }
  for (const m of code.matchAll(/"([^"\\]*)"|'([^'\\]*)'/g)) {
    const text = m[1] ?? m[2] ?? '';
    if (text.startsWith('/') || text.startsWith('~')) out.push(text);
  }
  return out;
}

function literals(code: string): string[] {
  const out: string[] = [];
  for (const m of code.matchAll(
    /"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`([^`]*)`|%x[({[]([^)}\]]*)|\bqx\s*[({[/|]([^)}\]/|]*)/g,
  )) {
    const text = m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5] ?? '';
    if (text.trim() !== '') out.push(text.replace(/\\(["'\\])/g, '$1'));
  }
  return out;
}

/** What literal code can do; the verdict says the worst of it. */
/** The strings and home-directory expressions of the code in order: `exec "rm", "-rf", $ENV{HOME}`. */
function argumentList(code: string): string {
  const words: string[] = [];
  const tokens = new RegExp(`"((?:[^"\\\\]|\\\\.)*)"|'((?:[^'\\\\]|\\\\.)*)'|${HOME_EXPR.source}`, 'g');
  for (const m of code.matchAll(tokens)) {
    const text = m[1] ?? m[2];
    words.push(text === undefined ? '~' : text === '~' ? '~' : `'${text.replace(/'/g, "'\\''")}'`);
  }
  return words.join(' ');
}

export function scanCode(code: string, site: Site, walk: Walk, depth = 0): Verdict {
  let verdict: Verdict = ruleOf(1, 'runs inline code that only computes and prints', site, 'inline code');
  const targets = DELETES.test(code) || WRITES.test(code) ? codeTargets(code) : [];
  if (DELETES.test(code)) {
    verdict = ruleOf(3, 'the inline program deletes files', site, 'inline code: delete API');
    for (const t of targets) {
      const cls = classifyTarget(t, walk.cwd);
      if (
        cls === 'root' ||
        cls === 'home' ||
        cls === 'systemdir' ||
        cls === 'systemfile' ||
        cls === 'device'
      ) {
        const what = cls === 'home' ? 'the home directory' : t;
        verdict = ruleOf(
          4,
          `the inline program deletes ${what}`,
          site,
          'inline code: delete API on a protected path',
        );
        break;
      }
    }
  }
  if (WRITES.test(code)) {
    for (const t of targets) {
      const cls = sensitiveClass(t, walk.cwd);
      if (cls) {
        const tier = cls === 'account' ? 4 : 3;
        verdict = higher(
          verdict,
          ruleOf(
            tier,
            `the inline program writes ${describeSensitive(cls, t)}`,
            site,
            'inline code: write API',
          ),
        );
      }
    }
  }
  if (FORKS.test(code)) {
    const bomb = LOOPS.test(code) || (code.match(/\bfork\b/g)?.length ?? 0) > 1;
    verdict = higher(
      verdict,
      bomb
        ? ruleOf(4, 'a fork bomb: the inline program forks without end', site, 'inline code: fork in a loop')
        : ruleOf(3, 'the inline program starts copies of itself', site, 'inline code: fork'),
    );
  }
  if (SPAWNS.test(code)) {
    const texts = literals(code);
    let spawned: Verdict = ruleOf(
      texts.length > 0 ? 2 : 3,
      texts.length > 0 ? 'the inline program runs commands' : 'the inline program runs commands it computes',
      site,
      'inline code: process spawn',
    );
    // subprocess.run(['rm', '-rf', '/']) spells one command as a list of literals
    for (const text of texts.length > 1 ? [...texts, argumentList(code)] : texts) {
      const inner = walk.ops.nested(text, walk);
      if (inner.tier > spawned.tier)
        spawned = via(inner, 'the inline program runs a command that ', 'inline code: shell string');
    }
    verdict = higher(verdict, spawned);
  }
  // code inside a string of the code: exec("import os; os.system('rm -rf /')")
  if (depth < 2 && verdict.tier < 4) {
    for (const text of literals(code)) {
      if (text.length > 6 && (SPAWNS.test(text) || DELETES.test(text) || FORKS.test(text)))
        verdict = higher(verdict, scanCode(text, site, walk, depth + 1));
    }
  }
  return verdict;
}

/** The verdict for an interpreter's code, wherever it comes from. */
export function interpreterVerdict(name: string, args: readonly Arg[], site: Site, walk: Walk): Verdict {
  const code = codeArg(name, args);
  const unseen = (why: string): Verdict =>
    ruleOf(3, `runs code it cannot show here: ${why}`, site, 'unseen code');
  if (code === 'script') {
    const script = args.slice(1).find((a) => !a.text.startsWith('-'));
    unproven(walk, site.part, `${name} runs a script file the policy cannot read`);
    if (script && isDownloaded(script.text, walk))
      return unseen(`${script.text} was downloaded on this line`);
    const written = script ? writtenText(script.text, walk) : undefined;
    if (written !== undefined) return scanCode(written, site, walk);
    return ruleOf(2, `runs the script ${script?.text ?? ''}`.trim(), site, 'interpreter with a script file');
  }
  if (code === 'stdin') {
    unproven(walk, site.part, `${name} runs code from its input`);
    if (site.stdin !== undefined) return scanCode(site.stdin, site, walk);
    if (site.piped)
      return unseen(`${name} runs what ${site.from ? basename(site.from) : 'another program'} outputs`);
    return ruleOf(2, `starts ${name}`, site, 'interactive interpreter');
  }
  if (!code) return ruleOf(2, `starts ${name}`, site, 'interpreter');
  if (!AWK.has(name) || /system|getline|\||>|\bprint\w*\s*>/.test(code.text))
    unproven(walk, site.part, `${name} is given code to run`);
  if (code.dynamic) {
    const sub = code.word?.parts.find((p) => p.kind === 'cmd');
    const text = sub?.kind === 'cmd' ? staticOutput(sub.inner, walk) : undefined;
    if (text === undefined) return unseen('the code is computed or downloaded when it runs');
    return scanCode(text, site, walk);
  }
  return scanCode(code.text, site, walk);
}
