// Shell blocks of README.md and docs/*.md, and the markers that make them executable
// documentation: `<!-- snippet: NAME -->` (run by the suite) or `<!-- not-run: REASON -->`, each on
// the line right before the block's fence. HTML comments, so readers see only the commands.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A block that writes Vault's configuration: it must be marked one way or the other. */
export const VAULT_SETUP =
  /\b(vault|bao) (write|auth enable|policy write|kv put|secrets (enable|tune)|plugin register)\b/;

export interface ShellBlock {
  /** Relative to the repository root, e.g. `docs/vault-setup.md`. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  marker?: { kind: 'snippet' | 'not-run'; value: string };
}

/** The documentation pages, in the order their snippets run: docs/ by name, then README.md. */
export function docPages(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return [...docs, 'README.md'];
}

const MARKER = /^<!--\s*(snippet|not-run):\s*(.+?)\s*-->$/;

/** Every fenced sh/bash/shell block, with the marker on the line before it, if any. */
export function shellBlocks(file: string): ShellBlock[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w*)\s*$/.exec(lines[i] ?? '');
    if (!open) continue;
    const close = lines.findIndex((l, j) => j > i && /^\s*```\s*$/.test(l));
    if (close < 0) throw new Error(`${file}:${i + 1}: unterminated code fence`);
    if (['sh', 'bash', 'shell'].includes(open[2] ?? '')) {
      const m = MARKER.exec((lines[i - 1] ?? '').trim());
      blocks.push({
        file,
        line: i + 1,
        code: `${lines.slice(i + 1, close).join('\n')}\n`,
        marker: m ? { kind: m[1] as 'snippet' | 'not-run', value: m[2] ?? '' } : undefined,
      });
    }
    i = close;
  }
  return blocks;
}

/** Markers that stand anywhere but right before a shell fence (they would silently not run). */
export function strayMarkers(file: string): number[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  return lines.flatMap((l, i) =>
    MARKER.test(l.trim()) && !/^\s*```(sh|bash|shell)\s*$/.test(lines[i + 1] ?? '') ? [i + 1] : [],
  );
}

export interface Snippet {
  name: string;
  file: string;
  line: number;
  code: string;
}

/** The blocks marked `snippet`, in running order. */
export function snippets(): Snippet[] {
  return docPages().flatMap((file) =>
    shellBlocks(file).flatMap((b) =>
      b.marker?.kind === 'snippet'
        ? [{ name: b.marker.value, file: b.file, line: b.line, code: b.code }]
        : [],
    ),
  );
}
