/** Small statistics and reporting helpers shared by the benchmarks. */
import { loadavg } from 'node:os';

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function fmt(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : String(value);
}

/** Times an async function once, in milliseconds. */
export async function timeMs(fn: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** `npm run bench -- --json` sets this for every bench process it starts. */
const JSON_MODE = process.env.ISAAC_BENCH_JSON === '1';

/** Prose for a person: stdout normally, stderr in --json mode so stdout holds only figures. */
export function say(text: string): void {
  (JSON_MODE ? process.stderr : process.stdout).write(text.endsWith('\n') ? text : `${text}\n`);
}

export function loadNow(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

export interface Figure {
  /** One of the names issue 15 lists, e.g. `exec.vs_ssh_controlmaster`. */
  name: string;
  value: number;
  unit: string;
  /** The same quantity for the reference tool measured in the same run, if there is one. */
  reference?: number;
  /** What the reference is, for the prose line ("ssh ControlMaster", "node -e 0"). */
  referenceLabel?: string;
  /** The goal, for the prose line ("<= 0.5x"). */
  goal?: string;
}

/**
 * Prints one named figure: a JSON line `{"name","value","unit","reference","ratio","load"}` in
 * --json mode, a readable line otherwise. `ratio` is value / reference.
 */
export function figure(f: Figure): void {
  const ratio = f.reference !== undefined && f.reference !== 0 ? f.value / f.reference : null;
  const load = loadNow();
  if (JSON_MODE) {
    process.stdout.write(
      `${JSON.stringify({
        name: f.name,
        value: round(f.value),
        unit: f.unit,
        reference: f.reference === undefined ? null : round(f.reference),
        ratio: ratio === null ? null : round(ratio),
        load,
      })}\n`,
    );
    return;
  }
  const ref =
    f.reference === undefined
      ? ''
      : `  vs ${f.referenceLabel ?? 'reference'} ${fmt(f.reference)} ${f.unit} = ${fmt(ratio ?? Number.NaN)}x`;
  const goal = f.goal ? `  (goal ${f.goal})` : '';
  process.stdout.write(
    `FIGURE ${f.name.padEnd(30)} ${fmt(f.value)} ${f.unit}${ref}${goal}  [load ${load}]\n`,
  );
}

function round(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 1000) / 1000 : value;
}

/**
 * Alternates two measurements A B A B ... so drift in the machine's load falls on both sides
 * alike; returns the samples of each side.
 */
export async function alternate(
  runs: number,
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
): Promise<{ a: number[]; b: number[] }> {
  const out = { a: [] as number[], b: [] as number[] };
  for (let i = 0; i < runs; i++) {
    out.a.push(await timeMs(a));
    out.b.push(await timeMs(b));
  }
  return out;
}
