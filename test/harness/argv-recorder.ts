// Wrapper scripts that record every argv a command is run with (one JSON line each), then exec the
// real binary, so tests can prove no secret is ever passed on a command line.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface ArgvRecorder {
  binDir: string;
  /** `pathEnv` with the wrappers first. */
  pathWith(pathEnv: string | undefined): string;
  /** Every recorded call as [command, ...args], in order. */
  argv(): string[][];
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function makeArgvRecorder(dir: string, commands: string[]): ArgvRecorder {
  const binDir = join(dir, 'argv-bin');
  const log = join(dir, 'argv.log');
  mkdirSync(binDir, { recursive: true });
  for (const cmd of commands) {
    // Resolved now, on the original PATH, so a wrapper never finds itself.
    const real = spawnSync('sh', ['-c', `command -v ${quote(cmd)}`], {
      encoding: 'utf8',
    }).stdout.trim();
    if (!real.startsWith('/')) throw new Error(`argv recorder: "${cmd}" is not on PATH`);
    const script = [
      '#!/bin/sh',
      `${quote(process.execPath)} -e 'process.stdout.write(JSON.stringify(process.argv.slice(1))+"\\n")' -- ${quote(cmd)} "$@" >> ${quote(log)}`,
      `exec ${quote(real)} "$@"`,
      '',
    ].join('\n');
    writeFileSync(join(binDir, cmd), script);
    chmodSync(join(binDir, cmd), 0o755);
  }
  return {
    binDir,
    pathWith: (pathEnv) => [binDir, ...(pathEnv ? [pathEnv] : [])].join(delimiter),
    argv: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as string[])
        : [],
  };
}
