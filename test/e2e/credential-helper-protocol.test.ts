// docker-credential-vault (dist/credential-helper) speaking the credential helper protocol against
// the real OpenBao, engine stand-in and registry: each verb, the not-found text, Docker Hub in every
// spelling, the store refusal, configuration errors naming file and key, and Nomad's way of
// calling it. "It works" is the registry accepting the credential; "revoked" is it refusing it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startEnv, type TestEnv } from '../harness/index.js';
import {
  enginePath,
  type HostKit,
  helperSuite,
  jwtAuth,
  leaseWrites,
} from './credential-helper-host.js';

const NOT_FOUND = 'credentials not found in native keychain\n';

let env: TestEnv;
let kit: HostKit;

helperSuite({
  start: () => startEnv(),
  ready: (e, k) => {
    env = e;
    kit = k;
  },
});

const engineConfig = () => ({
  vault: { url: env.vaultAddr },
  auth: jwtAuth(env, env.tmpDir),
  registries: [{ registry: env.registry.host, secret_path: enginePath(env) }],
});

describe('get and erase', () => {
  it('answers a credential the registry accepts, and erase makes the registry refuse it', async () => {
    const h = kit.host(engineConfig());
    const r = await h.get(`${env.registry.host}\n`);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const cred = JSON.parse(r.stdout) as Record<string, string>;
    expect(Object.keys(cred)).toEqual(['ServerURL', 'Username', 'Secret']);
    expect(cred).toMatchObject({ ServerURL: env.registry.host, Username: env.fixtures.account });
    expect(await env.registry.canLogin(cred.Username ?? '', cred.Secret ?? '')).toBe(true);
    const token = h.cache()?.vault?.token;
    expect(token).toBeTruthy();

    expect(await h.erase(env.registry.host)).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(await env.registry.canLogin(cred.Username ?? '', cred.Secret ?? '')).toBe(false);
    expect(env.engine.liveLeases()).toEqual([]);
    // The Vault token it logged in for is revoked too.
    expect(await env.vaultTokenAlive(token ?? '')).toBe(false);
    // Nothing is held any more: a second erase is a no-op, list is empty.
    expect(await h.erase(env.registry.host)).toMatchObject({ code: 0, stdout: '' });
    expect((await h.call('list', 'unused')).stdout).toBe('{}\n');
  });

  it('lists the registries it holds a credential for, and only those', async () => {
    const h = kit.host(engineConfig());
    expect(await h.call('list', 'unused')).toMatchObject({ code: 0, stdout: '{}\n' });
    await h.get(env.registry.host);
    expect(JSON.parse((await h.call('list', 'unused')).stdout)).toEqual({
      [env.registry.host]: env.fixtures.account,
    });
    await h.erase(env.registry.host);
  });
});

describe('registries it has no entry for', () => {
  it('answers exactly the not-found text on stdout with exit 1, from the cache the second time', async () => {
    const h = kit.host(engineConfig());
    const leases = leaseWrites(env);
    for (const server of ['ghcr.io', 'https://ghcr.io/v2/', 'quay.io:443']) {
      const before = env.engine.requests.length;
      const r = await h.get(server);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe(NOT_FOUND);
      // Nomad shows stderr: it says why.
      expect(r.stderr).toMatch(/no registry "(ghcr\.io|quay\.io:443)" in .*config\.yml/);
      expect(env.engine.requests.length).toBe(before);
    }
    expect(leaseWrites(env)).toBe(leases);
  });

  it('erases nothing and says nothing for a registry it holds nothing for', async () => {
    const h = kit.host(engineConfig());
    expect(await h.erase('ghcr.io')).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });
});

describe('Docker Hub in every spelling', () => {
  it('serves https://index.docker.io/v1/, docker.io, index.docker.io and registry-1.docker.io from one entry', async () => {
    const fx = env.fixtures;
    const h = kit.host({
      vault: { url: env.vaultAddr },
      auth: jwtAuth(env, env.tmpDir),
      // A static secret for Docker Hub: a KV v2 read, reused for static_ttl.
      registries: [{ registry: 'docker.io', secret_path: `${fx.kvMount}/data/${fx.kvPath}` }],
    });
    const reads = () =>
      env.engine.requests.filter((r) => r.path === `/v1/${fx.kvMount}/data/${fx.kvPath}`).length;
    const before = reads();
    for (const server of [
      'https://index.docker.io/v1/',
      'docker.io',
      'index.docker.io',
      'registry-1.docker.io',
      'https://registry-1.docker.io',
    ]) {
      const r = await h.get(server);
      expect(r.code, r.stdout).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ ServerURL: server, Username: fx.kvUsername });
    }
    expect(reads() - before).toBe(1);
    expect(JSON.parse((await h.call('list', '')).stdout)).toEqual({
      'https://index.docker.io/v1/': fx.kvUsername,
    });
    // No lease to revoke; the Vault token it logged in for is revoked.
    const token = h.cache()?.vault?.token;
    expect(token).toBeTruthy();
    expect(await h.erase('https://index.docker.io/v1/')).toMatchObject({ code: 0 });
    expect(await env.vaultTokenAlive(token ?? '')).toBe(false);
  });
});

describe('the other verbs', () => {
  it('refuses store, explaining the credential comes from Vault, and saves nothing', async () => {
    const h = kit.host(engineConfig());
    const input = JSON.stringify({
      ServerURL: env.registry.host,
      Username: 'someone',
      Secret: 'a-password-typed-at-docker-login',
    });
    const r = await h.call('store', input);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(`^Not stored: the credential for ${env.registry.host} is leased from Vault`),
    );
    expect(r.stdout).toMatch(/needs no docker login/);
    expect(r.stdout + r.stderr).not.toContain('a-password-typed-at-docker-login');
    expect((await h.call('list', '')).stdout).toBe('{}\n');
  });

  it('prints its version, and the usage for a missing or unknown verb', async () => {
    const h = kit.host(engineConfig());
    const v = await h.call('version', '');
    expect(v).toMatchObject({ code: 0, stderr: '' });
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(v.stdout).toBe(`docker-credential-vault (vault-docker-login) ${pkg.version}\n`);
    const unknown = await h.call('fetch', '');
    expect(unknown).toMatchObject({ code: 1, stdout: 'Unknown credential action `fetch`\n' });
    expect(await h.get('')).toMatchObject({ code: 1, stdout: 'no credentials server URL\n' });
  });
});

describe('configuration errors', () => {
  it.each([
    [
      { vault: { adress: 'x' } },
      /Config file .*config\.yml: key "vault\.adress": is not a known key/,
    ],
    [
      { credential_helper: { on_error: 'ignore' } },
      /key "credential_helper\.on_error": must be fail .* or anonymous/,
    ],
    [
      { credential_helper: { static_ttl: '2d' } },
      /key "credential_helper\.static_ttl": must be whole seconds or a duration such as 30, 30s, 5m or 1m30s, at most 24h; got "2d"/,
    ],
    [{ auth: { method: 'jwt' } }, /key "auth\.role": is required with auth\.method jwt/],
  ])('%j fails loudly, naming the file and key', async (override, message) => {
    const h = kit.host({ ...engineConfig(), ...override });
    const r = await h.get(env.registry.host);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(message);
    expect(r.stdout).toMatch(/Fix the file; docs\/credential-helper\.md lists every key/);
    expect(r.stderr).toMatch(message);
  });

  it('names the missing file and the variable that chooses it', async () => {
    const h = kit.host(engineConfig());
    const r = await h.call('get', env.registry.host, {
      ...h.env,
      VAULT_DOCKER_LOGIN_CONFIG: `${h.dir}/nope.yml`,
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/Cannot read the configuration file .*nope\.yml \(ENOENT\)/);
    expect(r.stdout).toMatch(/set VAULT_DOCKER_LOGIN_CONFIG/);
  });
});

describe('Nomad', () => {
  // drivers/docker/utils.go authFromHelper: `docker-credential-<helper> get`, stdin the registry's
  // index name (a bare host, `docker.io` for Docker Hub) without a newline, the agent's own
  // environment (a service: no HOME, no XDG_* variables), stdout parsed as JSON, and on a non-zero
  // exit the task fails with the helper's stderr.
  it('answers a bare host and docker.io in the agent environment, and explains failures on stderr', async () => {
    const fx = env.fixtures;
    const h = kit.host({
      vault: { url: env.vaultAddr },
      auth: jwtAuth(env, env.tmpDir),
      registries: [
        { registry: env.registry.host, secret_path: enginePath(env) },
        { registry: 'docker.io', secret_path: `${fx.kvMount}/data/${fx.kvPath}` },
      ],
    });
    // XDG_RUNTIME_DIR keeps the cache off this machine's /run (root's default without it).
    const agent = {
      VAULT_DOCKER_LOGIN_CONFIG: h.config,
      TMPDIR: `${h.dir}/tmp`,
      XDG_RUNTIME_DIR: `${h.dir}/agent-run`,
    };
    const own = await h.call('get', env.registry.host, agent);
    expect(own.code, own.stderr).toBe(0);
    const cred = JSON.parse(own.stdout) as { Username: string; Secret: string };
    expect(await env.registry.canLogin(cred.Username, cred.Secret)).toBe(true);
    const hub = await h.call('get', 'docker.io', agent);
    expect(JSON.parse(hub.stdout)).toMatchObject({ Username: fx.kvUsername });

    const other = await h.call('get', 'ghcr.io', agent);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/no registry "ghcr\.io"/);

    expect((await h.call('erase', env.registry.host, agent)).code).toBe(0);
    expect(await env.registry.canLogin(cred.Username, cred.Secret)).toBe(false);
    await h.call('erase', 'docker.io', agent);
  });
});
