// The job-local directory of the credential-helper mode: 0700, this user's, outside the
// workspace (RUNNER_TEMP on GitHub, else the CI's temporary directory), holding everything the
// job's docker commands need and everything its cleanup must find:
//   docker/config.json   DOCKER_CONFIG: credHelpers send the job's registries to `vault`
//   bin/docker-credential-vault   runs the helper shipped beside the entry point, on this Node
//   helper.json          the helper's configuration (auth: token_file -> token)
//   token                the job's Vault token, 0600
//   cache/               the helper's cache: every lease it made, for cleanup
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { VdlError } from './errors.js';
import { isPrivate, readPrivateFile, uid, writePrivateFile } from './private-dir.js';

export const JOB_DIR_PREFIX = 'vault-docker-login-job-';

export interface JobDir {
  dir: string;
  dockerConfig: string;
  bin: string;
  wrapper: string;
  helperConfig: string;
  tokenFile: string;
  cacheDir: string;
}

export function jobDirLayout(dir: string): JobDir {
  return {
    dir,
    dockerConfig: join(dir, 'docker'),
    bin: join(dir, 'bin'),
    wrapper: join(dir, 'bin', 'docker-credential-vault'),
    helperConfig: join(dir, 'helper.json'),
    tokenFile: join(dir, 'token'),
    cacheDir: join(dir, 'cache'),
  };
}

/** Variables naming a CI job's checkout: the job directory must not be inside it. */
const WORKSPACES = [
  'GITHUB_WORKSPACE',
  'CI_PROJECT_DIR',
  'BUILDKITE_BUILD_CHECKOUT_PATH',
  'WORKSPACE',
];

/** Where job directories go: RUNNER_TEMP on GitHub, else TMPDIR, else the system's. */
export function jobDirBase(env: NodeJS.ProcessEnv): { base: string; from: string } {
  if (env.RUNNER_TEMP) return { base: env.RUNNER_TEMP, from: 'RUNNER_TEMP' };
  if (env.TMPDIR) return { base: env.TMPDIR, from: 'TMPDIR' };
  return { base: tmpdir(), from: 'the system temporary directory' };
}

const inside = (child: string, parent: string) => {
  const r = relative(parent, child);
  return r === '' || (!r.startsWith('..') && !r.startsWith('/'));
};

/** Creates a fresh job directory (mkdtemp: 0700, a name nobody could have prepared). */
export function createJobDir(env: NodeJS.ProcessEnv): JobDir {
  const { base, from } = jobDirBase(env);
  let real: string;
  try {
    real = realpathSync(base);
  } catch (err) {
    throw new VdlError(
      'config',
      `The job's temporary directory ${base} (${from}) cannot be used: ${(err as NodeJS.ErrnoException).code ?? err}.`,
    );
  }
  for (const k of WORKSPACES) {
    const ws = env[k];
    if (ws && inside(real, resolve(ws)))
      throw new VdlError(
        'config',
        `The job's temporary directory ${base} (${from}) is inside the workspace (${k}); the Vault token would sit beside the checkout.`,
        `Point ${from === 'RUNNER_TEMP' ? 'RUNNER_TEMP' : 'TMPDIR'} at a directory outside ${ws}.`,
      );
  }
  let dir: string;
  try {
    dir = mkdtempSync(join(real, JOB_DIR_PREFIX));
  } catch (err) {
    throw new VdlError(
      'config',
      `Cannot create the job directory in ${base} (${from}): ${(err as NodeJS.ErrnoException).code ?? err}.`,
    );
  }
  const d = jobDirLayout(dir);
  checkJobDir(dir);
  for (const sub of [d.dockerConfig, d.bin, d.cacheDir]) mkdirSync(sub, { mode: 0o700 });
  return d;
}

/**
 * Refuses a job directory that is not what login made: a symlink, another user's, readable by
 * others, or not named by us (a state tampered with must not make cleanup delete anything else).
 */
export function checkJobDir(dir: string): void {
  const st = lstatSync(dir);
  if (!basename(dir).startsWith(JOB_DIR_PREFIX) || !st.isDirectory() || !isPrivate(st))
    throw new VdlError(
      'config',
      `${dir} is not a job directory of this user (a 0700 directory named ${JOB_DIR_PREFIX}*, owned by uid ${uid()}); not touching it.`,
    );
}

export function removeJobDir(dir: string): void {
  checkJobDir(dir);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A file of this user's, 0600, opened without following a symlink (readPrivateFile's checks);
 * undefined when absent or not to be trusted: cleanup skips what it cannot trust.
 */
export function readPrivateText(path: string): string | undefined {
  try {
    return readPrivateFile(path, 'File', '');
  } catch {
    return undefined;
  }
}

/** The helper's cache documents in the job directory, as far as cleanup needs them. */
export interface JobCacheView {
  leases: { leaseId: string; endsAt?: number }[];
  tokens: string[];
  /** The current credential per registry key. */
  entries: Record<string, { username?: string; leaseId?: string; endsAt?: number }>;
}

interface CacheShape {
  entries?: Record<
    string,
    { username?: string; leaseId?: string; endsAt?: number; token?: string }
  >;
  retired?: { leaseId?: string; endsAt?: number; token?: string }[];
  vault?: { token?: string };
}

export function readJobCache(d: JobDir): JobCacheView {
  const view: JobCacheView = { leases: [], tokens: [], entries: {} };
  let names: string[] = [];
  try {
    names = readdirSync(d.cacheDir).filter((n) => /^credential-helper-.*\.json$/.test(n));
  } catch {
    return view;
  }
  for (const n of names) {
    const text = readPrivateText(join(d.cacheDir, n));
    if (!text) continue;
    let doc: CacheShape;
    try {
      doc = JSON.parse(text) as CacheShape;
    } catch {
      continue;
    }
    for (const c of [...Object.values(doc.entries ?? {}), ...(doc.retired ?? [])]) {
      if (c.leaseId) view.leases.push({ leaseId: c.leaseId, endsAt: c.endsAt });
      if (c.token) view.tokens.push(c.token);
    }
    if (doc.vault?.token) view.tokens.push(doc.vault.token);
    Object.assign(view.entries, doc.entries);
  }
  return view;
}

const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * bin/docker-credential-vault: the helper bundle shipped beside the entry point, run by the Node
 * that runs the step, with the job's configuration and cache.
 */
export function writeWrapper(d: JobDir, node: string, helperScript: string): void {
  const text = [
    '#!/bin/sh',
    "# docker-credential-vault for this CI job (vault-docker-login's credential-helper mode).",
    `VAULT_DOCKER_LOGIN_CONFIG=${sq(d.helperConfig)}`,
    `VAULT_DOCKER_LOGIN_CACHE_DIR=${sq(d.cacheDir)}`,
    'export VAULT_DOCKER_LOGIN_CONFIG VAULT_DOCKER_LOGIN_CACHE_DIR',
    `exec ${sq(node)} ${sq(helperScript)} "$@"`,
    '',
  ].join('\n');
  writePrivateFile(d.wrapper, text);
  chmodSync(d.wrapper, 0o700);
}
