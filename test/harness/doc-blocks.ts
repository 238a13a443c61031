// The blocks of a documentation page that its own tests run: configuration files marked
// `<!-- config: NAME -->`, shell blocks marked `<!-- snippet: NAME -->` and what a command prints
// marked `<!-- output: NAME -->`, each on the line right before the fence. Tests take them verbatim and swap only the example names for the test
// environment's (the Vault address, the registry, the Docker Hub account, file paths).
import { readFileSync } from 'node:fs';

export interface DocBlock {
  kind: 'config' | 'snippet' | 'output';
  name: string;
  lang: string;
  line: number;
  code: string;
}

/** Every marked block of the page at `path`. */
export function docBlocks(path: string): DocBlock[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^<!--\s*(config|snippet|output):\s*([a-z0-9-]+)\s*-->$/.exec(
      (lines[i] ?? '').trim(),
    );
    if (!m) continue;
    const open = /^```(\w+)\s*$/.exec(lines[i + 1] ?? '');
    if (!open) throw new Error(`${path}:${i + 1}: a marker must stand right before a fence`);
    const close = lines.findIndex((l, j) => j > i + 1 && /^```\s*$/.test(l));
    blocks.push({
      kind: m[1] as DocBlock['kind'],
      name: m[2] ?? '',
      lang: open[1] ?? '',
      line: i + 2,
      code: `${lines.slice(i + 2, close).join('\n')}\n`,
    });
  }
  return blocks;
}

/** The block named `name` of the page, with each example value replaced (every one must occur). */
export function docBlock(path: string, name: string, swap: Record<string, string> = {}): string {
  const block = docBlocks(path).find((b) => b.name === name);
  if (!block) throw new Error(`${path} has no block marked ${name}`);
  let code = block.code;
  for (const [from, to] of Object.entries(swap)) {
    if (!code.includes(from)) throw new Error(`${path} block ${name} no longer says ${from}`);
    code = code.split(from).join(to);
  }
  return code;
}
