// The README's first command: the demo passes, every check of its timeline holds, nothing leaks.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { run } from '../harness/procs.js';

const ROOT = join(import.meta.dirname, '..', '..');

it('scripts/demo.ts passes: helper mode and single login, every check ticked, no secret printed', async () => {
  const r = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'demo.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });
  expect(r.stdout).not.toContain('✘');
  expect(r.stdout).toMatch(/docker pull .* with the helper's credential; still 1 lease/);
  expect(r.stdout).toMatch(/leak scan: \d+ secrets, 0 found in any output/);
  expect(r.stdout).toContain('✔ demo passed');
  expect(r.code, r.stderr).toBe(0);
}, 120_000);
