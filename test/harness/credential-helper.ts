// The built credential helper (dist/credential-helper) installed as `docker-credential-vault` on a
// PATH of its own, behind an argv recorder, and called as docker, skopeo and Nomad call it: the
// verb in argv, the request on stdin, the answer on stdout.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { makeArgvRecorder } from './argv-recorder.js';
import { run } from './procs.js';
import type { TestEnv } from './types.js';

/** What a command printed and how it exited. */
export type RunResult = Awaited<ReturnType<typeof run>>;

export const HELPER_BIN = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'dist',
  'credential-helper',
  'index.cjs',
);

export interface InstalledHelper {
  /** PATH with the recorder first, then the helper, then `PATH` itself. */
  path: string;
  /** `docker-credential-vault <verb>` with `input` on stdin, in exactly `env` (plus PATH). */
  call(verb: string, input: string, env: Record<string, string | undefined>): Promise<RunResult>;
  /** Every argv the helper and the recorded tools were run with. */
  argv(): string[][];
}

/** Installs the helper in `dir`/helper-bin; `tools` are recorded too (docker, skopeo). */
export function installHelper(dir: string, tools: string[] = []): InstalledHelper {
  const bin = join(dir, 'helper-bin');
  mkdirSync(bin, { recursive: true });
  symlinkSync(HELPER_BIN, join(bin, 'docker-credential-vault'));
  // The recorder resolves each command on PATH once, when it is made.
  const saved = process.env.PATH;
  process.env.PATH = `${bin}:${saved}`;
  let recorder: ReturnType<typeof makeArgvRecorder>;
  try {
    recorder = makeArgvRecorder(join(dir, 'helper-argv'), ['docker-credential-vault', ...tools]);
  } finally {
    process.env.PATH = saved;
  }
  const path = recorder.pathWith(`${bin}:${saved}`);
  return {
    path,
    call: (verb, input, env) =>
      run('docker-credential-vault', [verb], { input, env: { ...env, PATH: path } }),
    argv: () => recorder.argv(),
  };
}

/** Writes a helper configuration file (YAML, as the docs show it; text as given), 0600. */
export function writeHelperConfig(file: string, doc: Record<string, unknown> | string): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, typeof doc === 'string' ? doc : stringify(doc), { mode: 0o600 });
  return file;
}

type JwtEnv = Pick<TestEnv, 'vaultAddr' | 'fixtures' | 'issuer' | 'registry'>;

/** The `auth` section of a JWT login as the GitHub role, its token in `dir`/jwt (0600). */
export function githubJwtAuth(env: JwtEnv, dir: string, expiresIn = 3600) {
  const jwtFile = join(dir, 'jwt');
  writeFileSync(jwtFile, env.issuer.githubToken({ expiresIn }), { mode: 0o600 });
  return {
    method: 'jwt',
    mount: env.fixtures.githubMount,
    role: env.fixtures.github.role,
    jwt_file: jwtFile,
  };
}

/**
 * `dir`/config.yml for a host entry point: that JWT login, and the engine's read token for each of
 * `registries` (the test registry by default).
 */
export function jwtHostConfig(
  env: JwtEnv,
  dir: string,
  registries = [env.registry.host],
  expiresIn = 3600,
): string {
  const fx = env.fixtures;
  return writeHelperConfig(join(dir, 'config.yml'), {
    vault: { url: env.vaultAddr },
    auth: githubJwtAuth(env, dir, expiresIn),
    registries: registries.map((registry) => ({
      registry,
      secret_path: `${fx.engineMount}/token/${fx.account}/read`,
    })),
  });
}
