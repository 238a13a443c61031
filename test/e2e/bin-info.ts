// `--version` and `--help` of every bin, shared by the bundles' test and the single executable's:
// each answers on stdout with exit 0, without waiting for stdin (left open here, as a terminal
// leaves it), and names the package's version.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';

export const BINS = [
  'vault-docker-login',
  'docker-credential-vault',
  'vault-credential-provider',
  'vault-swarm-secrets',
] as const;
export type Bin = (typeof BINS)[number];

export const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs cmd with stdin an open pipe; a run still going after 30 s is killed (and fails below). */
export function runOpenStdin(
  cmd: string,
  args: string[],
  env: Record<string, string | undefined>,
  argv0?: string,
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, argv0, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b;
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b;
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      child.stdin.destroy();
      resolve({ code, stdout, stderr: stderr + (code === null ? '(killed: it waited)' : '') });
    });
  });
}

/** Checks `--version` and `--help` of one bin, run through `bin(args)`. */
export async function expectVersionAndHelp(
  name: Bin,
  bin: (args: string[]) => Promise<Ran>,
): Promise<void> {
  const version = await bin(['--version']);
  expect(version, name).toMatchObject({ code: 0, stderr: '' });
  // The CLI prints the bare version (scripts compare it); the others name themselves.
  expect(version.stdout, name).toBe(
    name === 'vault-docker-login' ? `${VERSION}\n` : `${name} (vault-docker-login) ${VERSION}\n`,
  );
  const help = await bin(['--help']);
  expect(help, name).toMatchObject({ code: 0, stderr: '' });
  expect(help.stdout, name).toMatch(new RegExp(`^Usage: ${name} `));
  expect(help.stdout, name).toContain('--version');
}
