import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';

// The house (README, Development): which folder may import which. Read from the import specifiers
// themselves, so a new crossing fails here before it reaches a review.
const ROOT = join(import.meta.dirname, '..', '..');
const ROOMS = [
  'node/shell',
  'node/daemon',
  'node/core',
  'node/ipc',
  'node/cli',
  'broker',
  'schemas',
] as const;
type Room = (typeof ROOMS)[number];

const ALLOWED: Record<Room, readonly Room[]> = {
  'node/cli': ['node/shell', 'node/daemon'],
  'node/shell': ['node/shell', 'node/core', 'node/ipc', 'schemas'],
  'node/daemon': ['node/daemon', 'node/core', 'node/ipc', 'schemas'],
  'node/ipc': ['node/ipc', 'node/core', 'schemas'],
  'node/core': ['node/core', 'schemas'],
  broker: ['broker', 'schemas'],
  schemas: ['schemas'],
};

const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mjs)$/.test(entry.name)) out.push(path);
  }
  return out;
}

function roomOf(file: string): Room | undefined {
  return ROOMS.find((room) => file === room || file.startsWith(`${room}/`));
}

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

function edges(file: string): Edge[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: Edge[] = [];
  for (const match of text.matchAll(SPECIFIER)) {
    const spec = match[1] ?? match[2] ?? match[3];
    if (!spec?.startsWith('.')) continue;
    const to = normalize(join(dirname(file), spec));
    out.push({ from: file, to, typeOnly: /^\s*(?:import|export)\s+type\s/.test(match[0]) });
  }
  return out;
}

const files = ['node', 'broker', 'schemas'].flatMap(sourceFiles);
const allEdges = files.flatMap(edges);

test('house: every source file lives in a known room', () => {
  const homeless = files.filter((f) => !roomOf(f));
  assert.deepEqual(homeless, [], 'move these into node/shell, node/daemon, node/core or node/ipc');
});

test('house: imports follow the allowed arrows (shell and daemon never import each other; broker only schemas)', () => {
  const crossings: string[] = [];
  for (const edge of allEdges) {
    const from = roomOf(edge.from);
    const to = roomOf(relative(ROOT, join(ROOT, edge.to)));
    if (!from || !to) {
      crossings.push(`${edge.from} -> ${edge.to} (outside the house)`);
      continue;
    }
    if (!ALLOWED[from].includes(to))
      crossings.push(`${edge.from} -> ${edge.to} (${from} may not import ${to})`);
  }
  assert.deepEqual(crossings, []);
});

test('house: no import cycle between source modules', () => {
  const graph = new Map<string, string[]>();
  for (const edge of allEdges) {
    if (edge.typeOnly) continue;
    graph.set(edge.from, [...(graph.get(edge.from) ?? []), edge.to]);
  }
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (node: string, path: string[]): void => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'open') {
      cycles.push([...path.slice(path.indexOf(node)), node].join(' -> '));
      return;
    }
    state.set(node, 'open');
    for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    state.set(node, 'done');
  };
  for (const file of files) visit(file, []);
  assert.deepEqual(cycles, []);
});

test('house: no source file over 400 lines', () => {
  const long = files
    .map((f) => ({ f, lines: readFileSync(join(ROOT, f), 'utf8').split('\n').length }))
    .filter(({ lines }) => lines > 400)
    .map(({ f, lines }) => `${f}: ${lines} lines`);
  assert.deepEqual(long, []);
});

test('house: the boundary check itself sees a crossing (a shell module importing the daemon is caught)', () => {
  const fake = edges('node/shell/cli.ts').concat({
    from: 'node/shell/x.ts',
    to: 'node/daemon/daemon.ts',
    typeOnly: false,
  });
  const caught = fake.filter((e) => {
    const from = roomOf(e.from);
    const to = roomOf(e.to);
    return from && to && !ALLOWED[from].includes(to);
  });
  assert.equal(caught.length, 1);
});
