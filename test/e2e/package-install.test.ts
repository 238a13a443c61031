// The npm package as a user gets it: `npm pack`, `npm install <tarball>` into an empty directory
// (offline: the package has no dependencies), then the installed `vault-docker-login` bin through
// a full login and logout against the real OpenBao, registry and docker CLI.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ArgvRecorder, makeArgvRecorder } from '../harness/argv-recorder.js';
import { startEnv, type TestEnv } from '../harness/index.js';
import { expectNoLeaks } from '../harness/leak.js';
import { run } from '../harness/procs.js';
import type { CommandResult } from '../harness/types.js';
import { expectNothingAlive } from './expect-clean.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// Exactly what the tarball holds. A change here is a change to what every user downloads: update
// this list on purpose (a new bin adds its dist/<name>/ files; see "files" in package.json).
const PACKED_FILES = [
  'LICENSE',
  'README.md',
  'dist/cli/index.js',
  'dist/cli/package.json',
  'dist/credential-helper/doctor.js',
  'dist/credential-helper/index.cjs',
  'dist/credential-helper/package.json',
  'dist/credential-helper/slow-path.js',
  'dist/kubelet-provider/index.js',
  'dist/kubelet-provider/package.json',
  // What every bin loads only when needed, once for all of them.
  'dist/shared/package.json',
  'dist/shared/transport-proxy.js',
  'dist/shared/yaml.js',
  'dist/swarm-driver/index.js',
  'dist/swarm-driver/package.json',
  'package.json',
];
const BINS = {
  'vault-docker-login': 'dist/cli/index.js',
  'vault-swarm-secrets': 'dist/swarm-driver/index.js',
  'docker-credential-vault': 'dist/credential-helper/index.cjs',
  'vault-credential-provider': 'dist/kubelet-provider/index.js',
};

let env: TestEnv;
let recorder: ArgvRecorder;
/** Everything npm and the installed CLI printed, scanned for secrets at the end. */
let printed = '';

interface Timed extends CommandResult {
  ms: number;
}

/** Runs a command to completion, keeping what it printed for the leak scan, and times it. */
async function timed(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string | undefined> },
): Promise<Timed> {
  const started = performance.now();
  const r = await run(cmd, args, opts);
  printed += `${r.stdout}\n${r.stderr}\n`;
  return { ...r, ms: Math.round(performance.now() - started) };
}

/** npm with its cache in the scratch directory, so nothing can come from the user's cache. */
function npm(args: string[], cwd: string): Promise<Timed> {
  return timed(
    'npm',
    [...args, '--cache', join(env.tmpDir, 'npm-cache'), '--no-audit', '--no-fund'],
    {
      cwd,
      env: { ...process.env, npm_config_update_notifier: 'false' },
    },
  );
}

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number; mode: number }[];
}

let pack: PackResult;
let tarball: string;
let app: string;

beforeAll(async () => {
  env = await startEnv();
  recorder = makeArgvRecorder(env.tmpDir, ['docker']);
  const out = join(env.tmpDir, 'pack');
  mkdirSync(out);
  const packed = await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', out], ROOT);
  expect(packed.code, packed.stderr).toBe(0);
  pack = (JSON.parse(packed.stdout) as [PackResult])[0];
  tarball = join(out, pack.filename);
  console.log(
    `npm pack: ${pack.filename}, ${pack.files.length} files, ${(pack.size / 1024).toFixed(1)} KB packed, ${(pack.unpackedSize / 1024).toFixed(1)} KB unpacked`,
  );

  app = join(env.tmpDir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true }\n');
  const installed = await npm(['install', '--offline', '--ignore-scripts', tarball], app);
  expect(installed.code, installed.stderr).toBe(0);
  console.log(`npm install --offline <tarball>: ${installed.ms} ms`);
});

afterAll(async () => {
  if (!env) return;
  expectNothingAlive(env);
  expectNoLeaks(printed, env.secrets());
  expectNoLeaks(recorder.argv().flat().join('\n'), env.secrets());
  await env.stop();
});

describe('npm package', () => {
  it('holds exactly the bins, their lazily loaded files, README, LICENSE and package.json', () => {
    expect(pack.files.map((f) => f.path).sort()).toEqual(PACKED_FILES);
    for (const path of Object.values(BINS)) {
      const bin = pack.files.find((f) => f.path === path);
      expect((bin?.mode ?? 0) & 0o111, path).not.toBe(0);
    }
  });

  it('declares no dependencies, is public and published with provenance', () => {
    const manifest = JSON.parse(
      readFileSync(join(app, 'node_modules', 'vault-docker-login', 'package.json'), 'utf8'),
    ) as Record<string, unknown>;
    for (const field of [
      'dependencies',
      'optionalDependencies',
      'peerDependencies',
      'bundleDependencies',
      'private',
    ]) {
      expect(manifest[field], field).toBeUndefined();
    }
    expect(manifest.bin).toEqual(BINS);
    expect(manifest.publishConfig).toEqual({ access: 'public', provenance: true });
    expect(manifest.engines).toEqual({ node: '>=20.18.1' });
    // Nothing but the package itself was installed.
    expect(readdirSync(join(app, 'node_modules')).filter((n) => !n.startsWith('.'))).toEqual([
      'vault-docker-login',
    ]);
  });

  it('the installed bin logs in and out: the registry accepts the credential, then refuses it', async () => {
    const bin = join(app, 'node_modules', '.bin', 'vault-docker-login');
    expect(realpathSync(bin)).toBe(
      realpathSync(join(app, 'node_modules', 'vault-docker-login', 'dist', 'cli', 'index.js')),
    );
    const docker = join(env.tmpDir, 'docker');
    const runtime = join(env.tmpDir, 'run');
    mkdirSync(runtime);
    const cliEnv = {
      // The bin's `#!/usr/bin/env node` finds the node running these tests first.
      PATH: [recorder.binDir, dirname(process.execPath), process.env.PATH].join(':'),
      HOME: env.tmpDir,
      DOCKER_CONFIG: docker,
      XDG_RUNTIME_DIR: runtime,
      VAULT_ADDR: env.vaultAddr,
      VAULT_ID_TOKEN: env.issuer.gitlabToken(),
    };
    const cli = (args: string[]) => timed(bin, args, { cwd: app, env: cliEnv });

    const login = await cli([
      'login',
      '--identity',
      'jwt-env',
      '--jwt-env',
      'VAULT_ID_TOKEN',
      '--auth-mount',
      env.fixtures.gitlabMount,
      '--role',
      env.fixtures.gitlab.role,
      // A registries list: the YAML parser comes from the package's dist/shared/.
      `--registries=${JSON.stringify([
        {
          registry: env.registry.host,
          secret_path: `${env.fixtures.engineMount}/token/${env.fixtures.account}/read`,
        },
      ])}`,
      '--json',
    ]);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).toContain('Identity: jwt-env.');
    const leaseId = (JSON.parse(login.stdout) as Record<string, string>[])[0]?.['lease-id'] ?? '';
    expect(env.engine.liveLeases()).toEqual([leaseId]);
    const stateDir = join(runtime, `vault-docker-login-${process.getuid?.()}`);
    expect(statSync(join(stateDir, 'default.json')).mode & 0o777).toBe(0o600);
    const vaultToken = (
      JSON.parse(readFileSync(join(stateDir, 'default.json'), 'utf8')) as {
        state: { vaultToken: string };
      }
    ).state.vaultToken;
    const auth = (
      JSON.parse(readFileSync(join(docker, 'config.json'), 'utf8')) as {
        auths: Record<string, { auth: string }>;
      }
    ).auths[env.registry.host]?.auth;
    const [user = '', secret = ''] = Buffer.from(auth ?? '', 'base64')
      .toString()
      .split(':');
    expect(user).toBe(env.fixtures.account);
    expect(await env.registry.canLogin(user, secret)).toBe(true);

    const logout = await cli(['logout']);
    expect(logout.code, logout.stderr).toBe(0);
    expect(logout.stderr).not.toContain('warning');
    expect(await env.registry.canLogin(user, secret)).toBe(false);
    expect(env.engine.liveLeases()).toEqual([]);
    expect(await env.vaultTokenAlive(vaultToken)).toBe(false);
    expect(existsSync(join(stateDir, 'default.json'))).toBe(false);
    expect(readFileSync(join(docker, 'config.json'), 'utf8')).not.toContain(env.registry.host);

    console.log(
      `installed CLI: login ${login.ms} ms, logout ${logout.ms} ms (process start included)`,
    );
  });

  it('`npx vault-docker-login` in the project runs the installed bin, offline', async () => {
    const r = await npm(
      ['exec', '--offline', '--yes=false', '--', 'vault-docker-login', '--help'],
      app,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Usage: vault-docker-login <command> [flags]');
  });
});
