// Every bin of package.json takes --version and --help, run from its bundle as npm links it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BINS, expectVersionAndHelp, runOpenStdin } from './bin-info.js';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { bin: Record<string, string> };

describe('--version and --help', () => {
  for (const name of BINS)
    it(name, async () => {
      const bundle = pkg.bin[name] ?? '';
      await expectVersionAndHelp(name, (args) =>
        runOpenStdin(process.execPath, [bundle, ...args], { PATH: process.env.PATH }),
      );
    });

  it('package.json has no other bin', () => {
    expect(Object.keys(pkg.bin).sort()).toEqual([...BINS].sort());
  });
});
