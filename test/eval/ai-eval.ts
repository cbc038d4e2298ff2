/**
 * `npm run eval:ai -- --provider P`: how well a provider turns requests into commands.
 *
 * Each request of test/fixtures/ai-eval (InterCode-ALFA, MIT) is asked through Isaac's own
 * assistant; the proposal and the reference commands each run in a fresh copy of the request's
 * test filesystem, built in a throwaway directory; a proposal matches when its output and the
 * files it leaves equal those of a reference. A proposal of tier 3 or above never runs: it is
 * counted as asked (3) or refused (4), as Isaac would at a terminal. Neither does a reference of
 * tier 3 or above: those requests are skipped.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../node/core/store/store.ts';
import { classify } from '../../node/core/tiers/index.ts';
import { createAssistant } from '../../node/shell/ai/assistant.ts';
import type { FetchFn } from '../../node/shell/ai/providers/types.ts';

const DATA = fileURLToPath(new URL('../fixtures/ai-eval/', import.meta.url));
const ROOTS = /(?<![\w.~/-])\/(testbed|system|workspace|backup|index\.html)\b/g;
const RUN_TIMEOUT_MS = 10_000;
const OUTPUT_CAP = 64 * 1024;

export interface EvalOptions {
  provider: string;
  model?: string;
  baseUrl?: string;
  /** Which filesystems (1-5); default all. */
  filesystems?: number[];
  limit?: number;
  env?: NodeJS.ProcessEnv;
  fetch?: FetchFn;
  /** Progress, one line per request. */
  onResult?: (result: ItemResult, index: number) => void;
}

export type Outcome = 'match' | 'mismatch' | 'asked' | 'refused' | 'no-command' | 'error' | 'skipped';

export interface ItemResult {
  fs: number;
  query: string;
  gold: string;
  proposal?: string;
  tier?: number;
  outcome: Outcome;
  detail?: string;
  firstTokenMs?: number;
}

export interface EvalSummary {
  provider: string;
  total: number;
  matched: number;
  mismatched: number;
  /** Tier 3: Isaac would ask a person first; not run. */
  asked: number;
  /** Tier 4: never runs. */
  refused: number;
  noCommand: number;
  errors: number;
  skipped: number;
  /** matched / (total - skipped) */
  accuracy: number;
  medianFirstTokenMs: number | null;
  results: ItemResult[];
}

interface Item {
  fs: number;
  query: string;
  gold: string;
  gold2: string;
}

export function loadItems(filesystems = [1, 2, 3, 4, 5], limit = Number.POSITIVE_INFINITY): Item[] {
  const items: Item[] = [];
  for (const fs of filesystems) {
    const rows = JSON.parse(readFileSync(join(DATA, `nl2bash_fs_${fs}.json`), 'utf8')) as Omit<Item, 'fs'>[];
    for (const row of rows) items.push({ fs, query: row.query, gold: row.gold, gold2: row.gold2 });
  }
  return items.slice(0, limit);
}

/** Upstream's absolute roots, moved into `dir`. */
const rooted = (text: string, dir: string) => text.replace(ROOTS, (_m, name: string) => `${dir}/${name}`);

interface Run {
  output: string;
  exit: number | null;
  timedOut: boolean;
}

function runBash(line: string, cwd: string, home: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', line], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8', TZ: 'UTC' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    const take = (chunk: Buffer) => {
      if (output.length < OUTPUT_CAP) output += chunk.toString('utf8');
    };
    child.stdout.on('data', take);
    child.stderr.on('data', () => undefined);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.on('close', (exit) => {
      clearTimeout(timer);
      resolve({ output, exit, timedOut });
    });
  });
}

/** What a command left behind: every path with its kind and content hash (times ignored). */
function snapshot(dir: string): string {
  const lines: string[] = [];
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      const rel = relative(dir, full);
      if (entry.isSymbolicLink()) lines.push(`l ${rel} -> ${readlinkSync(full).split(dir).join('')}`);
      else if (entry.isDirectory()) {
        lines.push(`d ${rel}`);
        walk(full);
      } else if (entry.isFile()) {
        // a file that names its own filesystem (a listing saved to a file) names where it was made
        const content = readFileSync(full).toString('latin1').split(dir).join('');
        lines.push(`f ${rel} ${createHash('sha256').update(content, 'latin1').digest('hex')}`);
      }
    }
  };
  walk(dir);
  return lines.sort().join('\n');
}

interface Effect {
  output: string;
  files: string;
}

/** Each filesystem is built once per run, from its setup script; every run gets a copy. */
const templates = new Map<string, Promise<string>>();

function template(fs: number, parent: string): Promise<string> {
  const key = `${parent}:${fs}`;
  let built = templates.get(key);
  if (!built) {
    built = (async () => {
      const dir = join(parent, `template-fs${fs}`);
      mkdirSync(dir, { recursive: true });
      const setup = rooted(readFileSync(join(DATA, `setup_nl2b_fs_${fs}.sh`), 'utf8'), dir);
      if ((await runBash(setup, dir, parent)).timedOut)
        throw new Error(`setup of filesystem ${fs} timed out`);
      return dir;
    })();
    templates.set(key, built);
  }
  return built;
}

/** Runs `lineFor(dir)` in a fresh copy of filesystem `fs` at a new dir (the line must know where it is). */
async function effectIn(lineFor: (dir: string) => string, fs: number, parent: string): Promise<Effect> {
  // a box of its own, also HOME: what a command writes next to or above its filesystem goes too
  const box = mkdtempSync(join(parent, `run-fs${fs}-`));
  const dir = join(box, 'root');
  try {
    cpSync(await template(fs, parent), dir, {
      recursive: true,
      preserveTimestamps: true,
      verbatimSymlinks: true,
    });
    const run = await runBash(lineFor(dir), dir, box);
    const output = run.output
      .split(dir)
      .join('')
      .replace(/[ \t]+$/gm, '')
      .trim();
    return { output: run.timedOut ? `(timed out)\n${output}` : output, files: snapshot(dir) };
  } finally {
    rmSync(box, { recursive: true, force: true });
  }
}

const sortedLines = (text: string) => text.split('\n').sort().join('\n');
const sameEffect = (a: Effect, b: Effect) =>
  a.files === b.files && (a.output === b.output || sortedLines(a.output) === sortedLines(b.output));

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

export async function runEval(options: EvalOptions): Promise<EvalSummary> {
  const work = mkdtempSync(join(tmpdir(), 'isaac-eval-'));
  const store = openStore(join(work, 'isaac-home'));
  try {
    store.config.set('machine.name', 'eval');
    store.config.set('ai.provider', options.provider);
    store.config.set('ai.context.size', '0');
    if (options.model) store.config.set(`ai.${options.provider}.model`, options.model);
    if (options.baseUrl) store.config.set(`ai.${options.provider}.base_url`, options.baseUrl);
    const results: ItemResult[] = [];
    for (const [index, item] of loadItems(options.filesystems, options.limit).entries()) {
      const result = await evaluate(item, options, store, work);
      results.push(result);
      options.onResult?.(result, index);
    }
    return summarize(options.provider, results);
  } finally {
    store.close();
    rmSync(work, { recursive: true, force: true });
  }
}

async function evaluate(
  item: Item,
  options: EvalOptions,
  store: ReturnType<typeof openStore>,
  work: string,
): Promise<ItemResult> {
  const base = { fs: item.fs, query: item.query, gold: item.gold };
  const references = [item.gold, item.gold2].filter((g) => g.trim());
  if (references.some((g) => classify(g).tier >= 3)) {
    return { ...base, outcome: 'skipped', detail: 'a reference is tier 3 or above; never run' };
  }
  const sandbox = join(work, 'fs');
  mkdirSync(sandbox, { recursive: true });
  const placeholder = join(sandbox, 'root');
  const assistant = createAssistant({
    store,
    env: options.env ?? process.env,
    fetch: options.fetch,
    cwd: () => placeholder,
    shell: () => 'bash',
  });
  const started = Date.now();
  let firstTokenMs: number | undefined;
  let answer: Awaited<ReturnType<typeof assistant.ask>>;
  try {
    answer = await assistant.ask(rooted(item.query, placeholder), {
      onToken: () => {
        firstTokenMs ??= Date.now() - started;
      },
    });
  } catch (err) {
    return { ...base, outcome: 'error', detail: err instanceof Error ? err.message : String(err) };
  }
  const timing = firstTokenMs === undefined ? {} : { firstTokenMs };
  if (answer.kind === 'queued') return { ...base, ...timing, outcome: 'error', detail: answer.reason };
  if (answer.kind !== 'command') {
    const detail =
      answer.kind === 'choice' ? 'alternatives, none chosen' : (answer.refused ?? 'an answer, no command');
    return { ...base, ...timing, outcome: 'no-command', detail };
  }
  // the proposal names the placeholder root; each run gets its own copy at another path
  const proposal = answer.command.split(placeholder).join('/testbed-root');
  const tier = classify(answer.command).tier;
  const proposed = { ...base, ...timing, proposal, tier };
  if (tier >= 4) return { ...proposed, outcome: 'refused' };
  if (tier >= 3) return { ...proposed, outcome: 'asked' };
  const toRun = (line: string) => (dir: string) => line.split('/testbed-root').join(dir);
  const mine = await effectIn(toRun(proposal), item.fs, sandbox);
  for (const reference of references) {
    if (sameEffect(mine, await effectIn((dir) => rooted(reference, dir), item.fs, sandbox))) {
      return { ...proposed, outcome: 'match' };
    }
  }
  return { ...proposed, outcome: 'mismatch' };
}

function summarize(provider: string, results: ItemResult[]): EvalSummary {
  const count = (outcome: Outcome) => results.filter((r) => r.outcome === outcome).length;
  const skipped = count('skipped');
  const scored = results.length - skipped;
  return {
    provider,
    total: results.length,
    matched: count('match'),
    mismatched: count('mismatch'),
    asked: count('asked'),
    refused: count('refused'),
    noCommand: count('no-command'),
    errors: count('error'),
    skipped,
    accuracy: scored > 0 ? count('match') / scored : 0,
    medianFirstTokenMs: median(
      results.flatMap((r) => (r.firstTokenMs === undefined ? [] : [r.firstTokenMs])),
    ),
    results,
  };
}

export function formatSummary(s: EvalSummary): string {
  const scored = s.total - s.skipped;
  return [
    `provider ${s.provider}: ${s.matched}/${scored} proposals gave the reference's result (${(s.accuracy * 100).toFixed(1)}%)`,
    `  different result ${s.mismatched} · no command ${s.noCommand} · errors ${s.errors}`,
    `  by tiers, not run: asked (tier 3) ${s.asked} · refused (tier 4) ${s.refused}`,
    `  skipped (reference of tier 3+) ${s.skipped} · median time to first token ${s.medianFirstTokenMs ?? '–'} ms`,
  ].join('\n');
}

function parseArgs(argv: string[]): EvalOptions & { json: boolean } {
  const options: EvalOptions & { json: boolean } = { provider: '', json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--provider') options.provider = value();
    else if (arg === '--model') options.model = value();
    else if (arg === '--base-url') options.baseUrl = value();
    else if (arg === '--limit') options.limit = Number(value());
    else if (arg === '--fs') options.filesystems = value().split(',').map(Number);
    else if (arg === '--json') options.json = true;
    else throw new Error(`unknown option ${arg}`);
  }
  if (!options.provider) throw new Error('--provider is required');
  return options;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  let options: ReturnType<typeof parseArgs>;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(
      `${(err as Error).message}: usage: npm run eval:ai -- --provider anthropic|openai|xai|ollama|openai-compatible [--model M] [--base-url URL] [--fs 1,2] [--limit N] [--json]\n`,
    );
    process.exit(2);
  }
  const summary = await runEval({
    ...options,
    onResult: options.json
      ? undefined
      : (r, i) =>
          process.stderr.write(
            `${i + 1}. ${r.outcome.padEnd(10)} ${r.query.slice(0, 70)}${r.proposal ? `  $ ${r.proposal}` : ''}${r.detail ? ` (${r.detail})` : ''}\n`,
          ),
  });
  process.stdout.write(
    options.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary)}\n`,
  );
}
