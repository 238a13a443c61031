// The unit tier's global setup: no services and no tools beyond bash. The orb tests run the packed
// orb, so it is packed from orb/src first (only written when it changed); the run is guarded as
// the end-to-end tier's is (run-guard.ts).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { guardRun } from './run-guard.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export default function setup(): () => Promise<void> {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'pack-orb.mjs')], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`npm run pack:orb failed:\n${r.stdout}${r.stderr}`);
  return guardRun();
}
