// The doctor reports docs/doctor.md shows (blocks marked `<!-- output: NAME -->`), by name.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { docBlocks } from '../harness/doc-blocks.js';

const DOC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'doctor.md');

export function docOutputs(): Record<string, string> {
  return Object.fromEntries(
    docBlocks(DOC)
      .filter((b) => b.kind === 'output')
      .map((b) => [b.name, b.code]),
  );
}
