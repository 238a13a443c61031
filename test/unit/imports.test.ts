// The source files import each other without a cycle: each can be read (and split) on its own.
// Type-only and lazy `import()` edges count too; esbuild's metafile would drop the former. And the
// layering: core imports no adapter and nothing from @actions/*; no adapter imports another.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, it } from 'vitest';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

/** Every module's imports, as written. */
function imports(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const entry of readdirSync(SRC, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) continue;
    const file = join(entry.parentPath, entry.name);
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    found.set(
      relative(SRC, file),
      importedFiles.map((i) => i.fileName),
    );
  }
  return found;
}

/** `core/x.ts` -> the source files it imports (`../auth/y.js` -> `auth/y.ts`). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const [file, specs] of imports())
    graph.set(
      file,
      specs
        .filter((s) => s.startsWith('.'))
        .map((s) => relative(SRC, resolve(SRC, dirname(file), s)).replace(/\.js$/, '.ts')),
    );
  return graph;
}

/** The top folder of a source file: core, auth, identity, or an entry point's adapter. */
const layer = (file: string) => file.split('/')[0] ?? '';
/** Shared by the adapters; they import it, it imports none of them. */
const SHARED = new Set(['core', 'auth', 'identity', 'types']);

function cycles(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open')
        found.push([...path.slice(path.indexOf(next)), next].join(' -> '));
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

it('src has no import cycle', () => {
  const graph = importGraph();
  expect(graph.size).toBeGreaterThan(100);
  expect(cycles(graph)).toEqual([]);
});

it('core imports no adapter and nothing of @actions/*; no adapter imports another', () => {
  const wrong: string[] = [];
  for (const [file, specs] of imports()) {
    if (layer(file) === 'core' && specs.some((s) => s.startsWith('@actions/')))
      wrong.push(`${file} imports @actions/*`);
  }
  for (const [file, targets] of importGraph()) {
    const from = layer(file);
    for (const t of targets) {
      const to = layer(t);
      if (to === from || SHARED.has(to)) {
        if (SHARED.has(from) && !SHARED.has(to)) wrong.push(`${file} -> ${t}`);
        continue;
      }
      // multi-call is the one executable's dispatcher: it starts each entry point.
      if (from !== 'multi-call') wrong.push(`${file} -> ${t}`);
    }
  }
  expect(wrong).toEqual([]);
});

it('the check finds a cycle', () => {
  const graph = new Map([
    ['a.ts', ['b.ts']],
    ['b.ts', ['c.ts']],
    ['c.ts', ['a.ts']],
  ]);
  expect(cycles(graph)).toEqual(['a.ts -> b.ts -> c.ts -> a.ts']);
});
