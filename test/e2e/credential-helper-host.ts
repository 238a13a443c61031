// A "host" for the credential helper's end-to-end tests: its own configuration file, HOME and
// XDG_RUNTIME_DIR (where the cache goes), and the helper called as docker calls it. What it prints
// is collected for the leak scan.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { CacheDoc } from '../../src/credential-helper/cache.js';
import { installHelper, type RunResult, writeHelperConfig } from '../harness/credential-helper.js';
import { expectNoLeaks } from '../harness/leak.js';
import type { TestEnv } from '../harness/types.js';
import { expectNothingAlive } from './expect-clean.js';

export interface Host {
  dir: string;
  config: string;
  /** The environment the helper runs in (PATH is added by the call). */
  env: Record<string, string | undefined>;
  /** The private directory the cache lives in. */
  cacheDir: string;
  call(verb: string, input: string, env?: Record<string, string | undefined>): Promise<RunResult>;
  get(server: string): Promise<RunResult>;
  erase(server: string): Promise<RunResult>;
  /** Rewrites the configuration file. */
  configure(doc: Record<string, unknown> | string): void;
  /** The cache document, as the helper wrote it (undefined before the first write). */
  cache(): CacheDoc | undefined;
}

export interface HostKit {
  /** A host with this configuration (an object written as YAML, or the file's text). */
  host(doc: Record<string, unknown> | string): Host;
  /**
   * Everything any helper call printed, but the credential a successful `get` answers on stdout:
   * handing it to the caller over that pipe is the protocol.
   */
  printed(): string;
  argv(): string[][];
  path: string;
}

export function hostKit(env: TestEnv, tools: string[] = []): HostKit {
  const helper = installHelper(env.tmpDir, tools);
  let printed = '';
  let n = 0;
  return {
    path: helper.path,
    printed: () => printed,
    argv: () => helper.argv(),
    host(doc) {
      const dir = join(env.tmpDir, `host-${++n}`);
      const config = writeHelperConfig(join(dir, 'config.yml'), doc);
      const runtime = join(dir, 'run');
      const hostEnv = { HOME: dir, XDG_RUNTIME_DIR: runtime, VAULT_DOCKER_LOGIN_CONFIG: config };
      const call = async (verb: string, input: string, extra = hostEnv) => {
        const r = await helper.call(verb, input, extra);
        printed += `${verb === 'get' && r.code === 0 ? '' : r.stdout}\n${r.stderr}\n`;
        return r;
      };
      return {
        dir,
        config,
        env: hostEnv,
        cacheDir: join(runtime, `vault-docker-login-${process.getuid?.() ?? 0}`),
        call,
        get: (server) => call('get', server),
        erase: (server) => call('erase', server),
        configure: (d) => writeHelperConfig(config, d),
        cache() {
          const cacheDir = join(runtime, `vault-docker-login-${process.getuid?.() ?? 0}`);
          const file = readdirSync(cacheDir, { withFileTypes: true }).find((f) =>
            /^credential-helper-.*\.json$/.test(f.name),
          );
          return file
            ? (JSON.parse(readFileSync(join(cacheDir, file.name), 'utf8')) as CacheDoc)
            : undefined;
        },
      };
    },
  };
}

/** A file in `dir` holding `text`, 0600. */
export function secretFile(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
}

/** The `auth` section for a JWT login as the GitHub role (a workload identity in a file). */
export function jwtAuth(env: TestEnv, dir: string): Record<string, unknown> {
  return {
    method: 'jwt',
    mount: env.fixtures.githubMount,
    role: env.fixtures.github.role,
    jwt_file: secretFile(
      dir,
      `jwt-${Math.random().toString(36).slice(2)}`,
      env.issuer.githubToken({ expiresIn: 900 }),
    ),
  };
}

/** The Docker Hub engine's token path for the test account. */
export const enginePath = (env: TestEnv, scope = 'read') =>
  `${env.fixtures.engineMount}/token/${env.fixtures.account}/${scope}`;

/** Requests that minted a lease at the engine stand-in. */
export const leaseWrites = (env: TestEnv) =>
  env.engine.requests.filter(
    (r) => r.path.startsWith(`/v1/${env.fixtures.engineMount}/token/`) && r.status === 200,
  ).length;

/** Revokes whatever a test left alive, with the root token (a failed test must not fail the rest). */
export async function revokeAllLeases(env: TestEnv): Promise<void> {
  for (const id of env.engine.liveLeases())
    await fetch(`${env.vaultAddr}/v1/sys/leases/revoke`, {
      method: 'PUT',
      headers: { 'X-Vault-Token': env.rootToken },
      body: JSON.stringify({ lease_id: id }),
    });
}

export interface SuiteOptions<E extends TestEnv> {
  start: () => Promise<E>;
  /** Tools whose argv is recorded and scanned too (docker, skopeo). */
  tools?: string[];
  /** Receives the environment and the helper kit once they run. */
  ready: (env: E, kit: HostKit) => void | Promise<void>;
  /** More text to scan for secrets at the end (what the file's own commands printed or wrote). */
  scan?: () => string;
  /** Runs before the environment stops. */
  beforeStop?: () => Promise<void>;
}

/**
 * The hooks every credential helper test file shares: an environment and a helper kit; after each
 * test, leases back to 300 s, no faults, nothing alive (what a failed test left is revoked, and
 * reported); at the end, every output, argv and `scan()` checked for every secret. The returned
 * list takes secrets made outside the environment (tokens, wrapping tokens, kept secret_ids).
 */
export function helperSuite<E extends TestEnv>(o: SuiteOptions<E>): string[] {
  let env: E | undefined;
  let kit: HostKit | undefined;
  const extraSecrets: string[] = [];
  beforeAll(async () => {
    env = await o.start();
    kit = hostKit(env, o.tools);
    await o.ready(env, kit);
  });
  afterEach(async () => {
    if (!env) return;
    env.engine.setLeaseTtl(300);
    env.engine.faults.clear();
    const alive = env.engine.liveLeases().length;
    await revokeAllLeases(env);
    expect(alive, 'a test left a lease alive').toBe(0);
    expectNothingAlive(env);
  });
  afterAll(async () => {
    if (!env) return;
    try {
      const secrets = [...env.secrets(), ...extraSecrets];
      expectNoLeaks(kit?.printed() ?? '', secrets);
      expectNoLeaks((kit?.argv() ?? []).flat().join('\n'), secrets);
      expectNoLeaks(o.scan?.() ?? '', secrets);
    } finally {
      await o.beforeStop?.();
      await env.stop();
    }
  });
  return extraSecrets;
}
