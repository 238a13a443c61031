// The blocks of docs/credential-helper.md that the suite runs (see test/harness/doc-blocks.ts).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as blocks from '../harness/doc-blocks.js';

export type { DocBlock } from '../harness/doc-blocks.js';

export const DOC = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'docs',
  'credential-helper.md',
);

export const docBlocks = () => blocks.docBlocks(DOC);

export const docBlock = (name: string, swap: Record<string, string> = {}) =>
  blocks.docBlock(DOC, name, swap);
