// The kubelet credential provider (dist/kubelet-provider) with the node's own Vault identity: a
// Vault Agent token file, AppRole (plain and response-wrapped), a JWT file. Run by the kubelet
// emulation against the real OpenBao, engine stand-in, registry and Docker daemon: the answer is
// accepted by the kubelet, pulls the private image, is keyed so the keyring applies it to the image, cached no longer than the lease and the
// token that holds it; failures are one line on stderr naming the fix; nothing secret is printed.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { baoApi, makeAppRole, makeToken } from '../harness/approle.js';
import { parseGoDuration } from '../harness/go-duration.js';
import { type DaemonEnv, startEnv } from '../harness/index.js';
import { keyringLookup } from '../harness/keyring.js';
import { type Kubelet, normalizedName, type ProviderExec } from '../harness/kubelet.js';
import {
  BUNDLE,
  installProvider,
  kubeletConfig,
  printedByProvider,
  revokeLeases,
  runProvider,
  startKubelet,
  writeProviderConfig,
} from '../harness/kubelet-provider.js';
import { kubeletPull } from '../harness/kubelet-pull.js';
import { expectNoLeaks } from '../harness/leak.js';
import { expectNothingAlive } from './expect-clean.js';

let env: DaemonEnv;
let dir: string;
let binDir: string;
let n = 0;
const extraSecrets: string[] = [];
const execs: (Pick<ProviderExec, 'stdout' | 'stderr'> | Awaited<ReturnType<typeof runProvider>>)[] =
  [];

beforeAll(async () => {
  env = await startEnv({ daemon: true });
  dir = join(env.tmpDir, 'kubelet');
  mkdirSync(dir, { recursive: true });
  binDir = installProvider(dir);
});
afterEach(async () => {
  await revokeLeases(env);
  expectNothingAlive(env);
});
afterAll(async () => {
  if (!env) return;
  expectNoLeaks(printedByProvider(execs), [...env.secrets(), ...extraSecrets]);
  await env.stop();
});

const file = (content: string) => {
  const p = join(dir, `f-${++n}`);
  writeFileSync(p, content, { mode: 0o600 });
  return p;
};

/** The provider's configuration: the engine's read token for the test registry, unless told. */
function providerConfig(auth: Record<string, unknown>, more: Record<string, unknown> = {}) {
  return writeProviderConfig(dir, {
    vault: { url: env.vaultAddr },
    auth,
    registries: [
      { registry: env.registry.host, secret_path: `dockerhub/token/${env.fixtures.account}/read` },
    ],
    ...more,
  });
}

/** A kubelet running the provider for the test registry; `clock` moves its time. */
function nodeKubelet(configFile: string, clock = { offset: 0 }, matchImages?: string[]) {
  const k = startKubelet(
    env,
    binDir,
    kubeletConfig({ configFile, matchImages: matchImages ?? [env.registry.host] }),
    { now: () => Date.now() + clock.offset },
  );
  return k;
}

/** Pulls `image` through the kubelet and returns the credentials and the provider runs it caused. */
async function pull(k: Kubelet, image: string) {
  const before = k.execs.length;
  const creds = await k.credentialsFor(image);
  const ran = k.execs.slice(before);
  execs.push(...ran);
  return { creds, ran };
}

const answer = (e: ProviderExec) => answerOf(e.stdout);
const answerOf = (stdout: string) =>
  JSON.parse(stdout) as {
    cacheKeyType: string;
    cacheDuration?: string;
    auth: Record<string, { username: string; password: string }>;
  };
const cacheSeconds = (e: ProviderExec) => parseGoDuration(answer(e).cacheDuration ?? '') / 1000;

/** Vault requests that arrived while `fn` ran. */
async function vaultRequests<T>(fn: () => Promise<T>) {
  const t0 = Date.now();
  const result = await fn();
  return { result, requests: env.engine.requests.filter((r) => r.at >= t0).map((r) => r.path) };
}

describe('node identity', () => {
  it('a Vault Agent token file: the answer pulls, is keyed for the image, and lives no longer than the lease', async () => {
    const token = await makeToken(env, ['dockerhub-rw'], '10m');
    extraSecrets.push(token);
    const k = nodeKubelet(providerConfig({ method: 'token_file', token_file: file(token) }));
    const image = `${env.registry.host}/private/app:1`;
    const { result, requests } = await vaultRequests(() => pull(k, image));
    const [exec] = result.ran;
    if (!exec) throw new Error('the provider did not run');
    expect(exec).toMatchObject({ code: 0, stderr: '' });
    expect(exec.rejected).toBeUndefined();
    expect(result.creds).toHaveLength(1);
    const [cred] = result.creds;
    expect(await env.registry.canLogin(cred?.username ?? '', cred?.password ?? '')).toBe(true);
    expect(answer(exec)).toMatchObject({
      apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
      kind: 'CredentialProviderResponse',
      cacheKeyType: 'Registry',
      auth: { [env.registry.host]: cred },
    });
    // The engine's lease is 300 s; the margin is 30 s.
    expect(cacheSeconds(exec)).toBeGreaterThanOrEqual(260);
    expect(cacheSeconds(exec)).toBeLessThanOrEqual(270);
    // The borrowed token's TTL is looked up; then one lease.
    expect(requests).toEqual([
      '/v1/auth/token/lookup-self',
      `/v1/dockerhub/token/${env.fixtures.account}/read`,
    ]);
    // Another image on the registry, the private one, pulled through the daemon: the kubelet's
    // cache answers, the provider does not run again.
    const pulled = await kubeletPull(k, env.daemon, env.privateImage, dir);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(k.execs).toHaveLength(1);
    expect(env.engine.liveLeases()).toHaveLength(1);
    // The token holds the lease: never revoked by the provider.
    expect(await env.vaultTokenAlive(token)).toBe(true);
  });

  it('caches no longer than a token that dies before the lease (token file and AppRole)', async () => {
    const short = await makeToken(env, ['dockerhub-rw'], '100s');
    extraSecrets.push(short);
    const viaFile = await pull(
      nodeKubelet(providerConfig({ method: 'token_file', token_file: file(short) })),
      `${env.registry.host}/a`,
    );
    expect(cacheSeconds(viaFile.ran[0] as ProviderExec)).toBeLessThanOrEqual(70);
    expect(cacheSeconds(viaFile.ran[0] as ProviderExec)).toBeGreaterThanOrEqual(60);

    const role = await makeAppRole(env, 'node-short', ['dockerhub-rw']);
    await baoApi(env, 'POST', 'auth/approle/role/node-short', { token_ttl: '120s' });
    const secretId = await role.secretId();
    extraSecrets.push(secretId);
    const viaLogin = await pull(
      nodeKubelet(
        providerConfig({ method: 'approle', role_id: role.roleId, secret_id_file: file(secretId) }),
      ),
      `${env.registry.host}/a`,
    );
    expect(cacheSeconds(viaLogin.ran[0] as ProviderExec)).toBeLessThanOrEqual(90);
    expect(cacheSeconds(viaLogin.ran[0] as ProviderExec)).toBeGreaterThanOrEqual(80);
    expect(viaLogin.creds).toHaveLength(1);
  });

  it('AppRole: login and lease, two Vault requests; the token is left to hold the lease', async () => {
    const role = await makeAppRole(env, 'node-pull', ['dockerhub-rw']);
    const secretId = await role.secretId();
    extraSecrets.push(secretId);
    const k = nodeKubelet(
      providerConfig({
        method: 'approle',
        role_id_file: file(role.roleId),
        secret_id_file: file(secretId),
      }),
    );
    const { result, requests } = await vaultRequests(() => pull(k, `${env.registry.host}/app`));
    expect(requests).toEqual([
      '/v1/auth/approle/login',
      `/v1/dockerhub/token/${env.fixtures.account}/read`,
    ]);
    const [cred] = result.creds;
    expect(await env.registry.canLogin(cred?.username ?? '', cred?.password ?? '')).toBe(true);
    const tokens = env.engine.vaultTokens();
    expect(await env.vaultTokenAlive(tokens[tokens.length - 1] ?? '')).toBe(true);
  });

  it('AppRole with a wrapped secret_id: of pulls started together one unwraps it, the others use what it keeps, later runs reuse it', async () => {
    const role = await makeAppRole(env, 'node-wrapped', ['dockerhub-rw']);
    const wrap = await role.wrappedSecretId('5m');
    extraSecrets.push(wrap);
    const stateDir = join(dir, 'wrapped-state');
    const configFile = providerConfig({
      method: 'approle',
      role_id: role.roleId,
      secret_id_file: file(wrap),
      secret_id_wrapped: true,
      role_name: 'node-wrapped',
      state_dir: stateDir,
    });
    const k = nodeKubelet(configFile);
    // Four images at once: the kubelet runs the provider once per image, in parallel.
    const { result, requests } = await vaultRequests(() =>
      Promise.all([1, 2, 3, 4].map((i) => pull(k, `${env.registry.host}/app-${i}`))),
    );
    for (const r of result) {
      expect(r.ran[0]).toMatchObject({ code: 0, stderr: '' });
      expect(r.creds).toHaveLength(1);
    }
    // No lock: they may all try, Vault lets one unwrap, the others find it used and read the
    // secret_id it keeps (no false interception alarm).
    const tries = requests.filter((p) => p === '/v1/sys/wrapping/unwrap').length;
    expect(tries).toBeGreaterThanOrEqual(1);
    expect(tries).toBeLessThanOrEqual(4);
    expect(requests.filter((p) => p === '/v1/auth/approle/login')).toHaveLength(4);
    // Kept for the next process, readable by its owner only.
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    const kept = readdirSync(stateDir);
    expect(kept).toHaveLength(1);
    expect(statSync(join(stateDir, kept[0] ?? '')).mode & 0o777).toBe(0o600);
    const later = nodeKubelet(configFile);
    expect((await pull(later, `${env.registry.host}/app-5`)).creds).toHaveLength(1);
  });

  it('a run killed mid-login (SIGTERM before the unwrap, SIGKILL after it) blocks no later run', async () => {
    const role = await makeAppRole(env, 'node-killed', ['dockerhub-rw']);
    const secretIdFile = join(dir, 'killed-secret-id');
    const configFile = providerConfig({
      method: 'approle',
      role_id: role.roleId,
      secret_id_file: secretIdFile,
      secret_id_wrapped: true,
      role_name: 'node-killed',
      state_dir: join(dir, 'killed-state'),
    });
    const request = JSON.stringify({
      apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
      kind: 'CredentialProviderRequest',
      image: `${env.registry.host}/app:killed`,
    });
    // systemd restarting the kubelet sends SIGTERM; the kubelet's one-minute limit, SIGKILL.
    const cases = [
      { signal: 'SIGTERM', held: '/v1/sys/wrapping/lookup' },
      { signal: 'SIGKILL', held: '/v1/auth/approle/login' },
    ] as const;
    for (const c of cases) {
      const wrap = await role.wrappedSecretId('5m');
      extraSecrets.push(wrap);
      writeFileSync(secretIdFile, wrap, { mode: 0o600 });
      env.engine.faults.add({ path: c.held, delayMs: 5000, times: 1 });
      const t0 = Date.now();
      const victim = spawn(process.execPath, [BUNDLE, '--config', configFile], {
        env: { PATH: process.env.PATH, HOME: env.tmpDir },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const exited = new Promise((r) => victim.once('exit', r));
      victim.stdin.end(request);
      while (!env.engine.requests.some((q) => q.at >= t0 && q.path === c.held))
        await new Promise((r) => setTimeout(r, 20));
      victim.kill(c.signal);
      await exited;
      const killedAt = Date.now();
      const next = await runProvider(env, configFile, { image: `${env.registry.host}/app:next` });
      const ms = Date.now() - killedAt;
      execs.push(next);
      expect(next.code, next.stderr).toBe(0);
      const cred = Object.values(answerOf(next.stdout).auth)[0];
      expect(await env.registry.canLogin(cred?.username ?? '', cred?.password ?? '')).toBe(true);
      console.info(
        `kubelet provider killed by ${c.signal} during ${c.held}: next good answer ${ms} ms later`,
      );
    }
  });

  it('a JWT file (a node agent service account token) logs in to the JWT auth method', async () => {
    const jwt = env.issuer.githubToken();
    const k = nodeKubelet(
      providerConfig({
        method: 'jwt',
        mount: env.fixtures.githubMount,
        role: env.fixtures.github.role,
        jwt_file: file(jwt),
      }),
    );
    const { creds } = await pull(k, `${env.registry.host}/app`);
    expect(await env.registry.canLogin(creds[0]?.username ?? '', creds[0]?.password ?? '')).toBe(
      true,
    );
  });
});

describe('cache duration', () => {
  const kv = () => ({
    registry: env.registry.host,
    secret_path: `${env.fixtures.kvMount}/data/${env.fixtures.kvPath}`,
  });

  it('a secret without a lease (KV) gets kubelet.default_cache_duration', async () => {
    const token = await makeToken(env, ['dockerhub-rw'], '10m');
    extraSecrets.push(token);
    const cfg = providerConfig(
      { method: 'token_file', token_file: file(token) },
      { registries: [kv()], kubelet: { default_cache_duration: '10m' } },
    );
    const { ran, creds } = await pull(nodeKubelet(cfg), `${env.registry.host}/app`);
    expect(answer(ran[0] as ProviderExec).cacheDuration).toBe('10m0s');
    expect(await env.registry.canLogin(creds[0]?.username ?? '', creds[0]?.password ?? '')).toBe(
      true,
    );
  });

  it("without it, the kubelet's defaultCacheDuration applies", async () => {
    const token = await makeToken(env, ['dockerhub-rw'], '10m');
    extraSecrets.push(token);
    const clock = { offset: 0 };
    const k = nodeKubelet(
      providerConfig({ method: 'token_file', token_file: file(token) }, { registries: [kv()] }),
      clock,
    );
    const first = await pull(k, `${env.registry.host}/app`);
    expect(answer(first.ran[0] as ProviderExec)).not.toHaveProperty('cacheDuration');
    expect((await pull(k, `${env.registry.host}/app`)).ran).toHaveLength(0);
    clock.offset = 61_000; // past defaultCacheDuration (1m)
    expect((await pull(k, `${env.registry.host}/app`)).ran).toHaveLength(1);
  });

  it('a margin longer than the lease answers 0s: the kubelet does not cache it', async () => {
    const token = await makeToken(env, ['dockerhub-rw'], '10m');
    extraSecrets.push(token);
    const k = nodeKubelet(
      providerConfig(
        { method: 'token_file', token_file: file(token) },
        { kubelet: { cache_margin: '6m' } },
      ),
    );
    const first = await pull(k, `${env.registry.host}/app`);
    expect(answer(first.ran[0] as ProviderExec).cacheDuration).toBe('0s');
    expect((await pull(k, `${env.registry.host}/app`)).ran).toHaveLength(1);
  });

  it('Image and Global cache keys, and Image for an entry scoped to a path', async () => {
    const token = await makeToken(env, ['dockerhub-rw'], '10m');
    extraSecrets.push(token);
    const auth = { method: 'token_file', token_file: file(token) };
    const image = nodeKubelet(providerConfig(auth, { kubelet: { cache_key_type: 'Image' } }));
    await pull(image, `${env.registry.host}/app`);
    expect((await pull(image, `${env.registry.host}/other`)).ran).toHaveLength(1);
    expect((await pull(image, `${env.registry.host}/app:2`)).ran).toHaveLength(0);

    const global = nodeKubelet(providerConfig(auth, { kubelet: { cache_key_type: 'Global' } }));
    expect(
      answer((await pull(global, `${env.registry.host}/app`)).ran[0] as ProviderExec),
    ).toMatchObject({ cacheKeyType: 'Global' });

    const scoped = nodeKubelet(
      providerConfig(auth, {
        registries: [
          {
            registry: `${env.registry.host}/team-a`,
            secret_path: `dockerhub/token/${env.fixtures.account}/read`,
          },
        ],
      }),
    );
    const a = await pull(scoped, `${env.registry.host}/team-a/app`);
    expect(answer(a.ran[0] as ProviderExec)).toMatchObject({
      cacheKeyType: 'Image',
      auth: { [`${env.registry.host}/team-a`]: expect.anything() },
    });
    expect(a.creds).toHaveLength(1);
    const b = await pull(scoped, `${env.registry.host}/team-b/app`);
    expect(b.creds).toEqual([]);
    expect(b.ran[0]?.stderr).toMatch(/No registries entry .* serves the image/);
  });

  it('a whole-registry entry next to a path-scoped one answers Image, so the scoped path still runs the provider', async () => {
    const token = await makeToken(env, ['dockerhub-rw'], '10m');
    extraSecrets.push(token);
    const auth = { method: 'token_file', token_file: file(token) };
    const k = nodeKubelet(
      providerConfig(auth, {
        registries: [
          // The rest of the registry: the static KV user; the private path: an engine token.
          {
            registry: env.registry.host,
            secret_path: `${env.fixtures.kvMount}/data/${env.fixtures.kvPath}`,
          },
          {
            registry: `${env.registry.host}/private`,
            secret_path: `dockerhub/token/${env.fixtures.account}/read`,
          },
        ],
      }),
    );
    const rest = await pull(k, `${env.registry.host}/public/app`);
    expect(answer(rest.ran[0] as ProviderExec).cacheKeyType).toBe('Image');
    expect(rest.creds[0]?.username).toBe(env.fixtures.kvUsername);
    // Not served from a Registry-keyed cache entry: the provider runs and answers the path's own.
    const scoped = await pull(k, `${env.registry.host}/private/app`);
    expect(scoped.ran).toHaveLength(1);
    expect(scoped.creds).toHaveLength(1);
    expect(scoped.creds[0]?.username).not.toBe(env.fixtures.kvUsername);
    expect(
      await env.registry.canLogin(scoped.creds[0]?.username ?? '', scoped.creds[0]?.password ?? ''),
    ).toBe(true);
  });
});

describe('Docker Hub in every spelling', () => {
  // The static KV credential stands in for a Docker Hub one: no Docker Hub to pull from here.
  async function hubProvider() {
    const token = await makeToken(env, ['dockerhub-rw'], '10m');
    extraSecrets.push(token);
    return providerConfig(
      { method: 'token_file', token_file: file(token) },
      {
        registries: [
          {
            registry: 'docker.io',
            secret_path: `${env.fixtures.kvMount}/data/${env.fixtures.kvPath}`,
          },
        ],
      },
    );
  }
  const spellings = [
    'nginx',
    'nginx:1.27',
    'library/nginx',
    'acme/private-app:2',
    'docker.io/library/nginx',
    'docker.io/nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31',
    'index.docker.io/library/nginx',
    'index.docker.io/acme/app',
  ];

  it.each(spellings)('%s: the kubelet (normalizing) gets the credential', async (image) => {
    const k = nodeKubelet(await hubProvider(), undefined, ['docker.io']);
    const { creds, ran } = await pull(k, image);
    expect(ran[0]?.code).toBe(0);
    expect(ran[0]?.rejected).toBeUndefined();
    expect(creds).toEqual([{ username: env.fixtures.kvUsername, password: expect.any(String) }]);
  });

  it('the raw spellings too, matched by the keyring as written', async () => {
    const cfg = await hubProvider();
    for (const image of spellings) {
      const r = await runProvider(env, cfg, { image });
      execs.push(r);
      expect(r.code).toBe(0);
      const auth = JSON.parse(r.stdout).auth;
      expect(keyringLookup(auth, image.replace(/[:@].*$/, ''))).toHaveLength(1);
      expect(keyringLookup(auth, normalizedName(image))).toHaveLength(1);
    }
  });
});

describe('failures: exit 1, one line on stderr naming the fix, no credential', () => {
  async function tokenConfig(more: Record<string, unknown> = {}, policies = ['dockerhub-rw']) {
    const token = await makeToken(env, policies, '10m');
    extraSecrets.push(token);
    return providerConfig({ method: 'token_file', token_file: file(token) }, more);
  }
  const oneLine = (r: { code: number | null; stdout: string; stderr: string }, re: RegExp) => {
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^vault-credential-provider: /);
    expect(r.stderr).toMatch(re);
  };

  it('an image no registries entry serves', async () => {
    const r = await runProvider(env, await tokenConfig(), { image: 'ghcr.io/acme/app' });
    execs.push(r);
    oneLine(r, /No registries entry in .* serves the image ghcr\.io\/acme\/app\. .*matchImages/);
  });

  it('a policy that does not allow the registry path: the Vault refusal, explained', async () => {
    const k = nodeKubelet(await tokenConfig({}, ['dockerhub-read-only']));
    const { creds, ran } = await pull(k, `${env.registry.host}/app`);
    expect(creds).toEqual([]);
    oneLine(ran[0] as ProviderExec, /403|permission denied/i);
    expect(ran[0]?.stderr).toMatch(/policy/i);
  });

  it('an AppRole login whose lease fails revokes its token again', async () => {
    const role = await makeAppRole(env, 'node-denied', ['dockerhub-read-only']);
    const secretId = await role.secretId();
    extraSecrets.push(secretId);
    const k = nodeKubelet(
      providerConfig({ method: 'approle', role_id: role.roleId, secret_id_file: file(secretId) }),
    );
    const { ran } = await pull(k, `${env.registry.host}/app`);
    expect(ran[0]?.code).toBe(1);
    const tokens = env.engine.vaultTokens();
    expect(await env.vaultTokenAlive(tokens[tokens.length - 1] ?? '')).toBe(false);
  });

  it.each([
    [
      'not JSON',
      'eyJhbGciOiJSUzI1NiJ9.e30.c2ln',
      /stdin is not a CredentialProviderRequest: it is not JSON\. .*echo/,
    ],
    [
      'another apiVersion',
      '{"apiVersion":"credentialprovider.kubelet.k8s.io/v2","kind":"CredentialProviderRequest","image":"x"}',
      /apiVersion is "credentialprovider\.kubelet\.k8s\.io\/v2", expected credentialprovider\.kubelet\.k8s\.io\/v1 \(set it as the provider's apiVersion/,
    ],
    [
      'another kind',
      '{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","image":"x"}',
      /kind is "CredentialProviderResponse", expected CredentialProviderRequest/,
    ],
  ])('stdin %s', async (_what, input, re) => {
    const r = await runProvider(env, await tokenConfig(), input);
    execs.push(r);
    oneLine(r, re);
    // Nothing of stdin is repeated: it may hold a service account token.
    expect(r.stderr).not.toContain('eyJhbGciOiJSUzI1NiJ9');
  });

  it.each([
    [
      { kubelet: { cache_key_type: 'Sometimes' } },
      /key "kubelet\.cache_key_type": must be one of Image, Registry, Global/,
    ],
    [
      { kubelet: { cache_margin: 'a while' } },
      /key "kubelet\.cache_margin": must be whole seconds or a duration such as 30, 30s, 5m or 1m30s; got "a while"/,
    ],
    [{ kubelet: { role_anotation: 'x' } }, /key "kubelet\.role_anotation": is not a known key/],
    [
      {
        kubelet: { cache_key_type: 'Global' },
        registries: [
          { registry: 'a.example', secret_path: 'secret/data/a' },
          { registry: 'b.example', secret_path: 'secret/data/b' },
        ],
      },
      /Global makes the kubelet reuse one answer for every image, so it needs exactly one registries entry \(there are 2\); use Registry/,
    ],
  ])('config %j', async (more, re) => {
    const r = await runProvider(env, await tokenConfig(more), { image: `${env.registry.host}/x` });
    execs.push(r);
    oneLine(r, re);
  });

  it('a missing config file names --config in the kubelet configuration', async () => {
    const r = await runProvider(env, join(dir, 'nope.yml'), { image: 'x' });
    execs.push(r);
    oneLine(
      r,
      /Cannot read the configuration file .*nope\.yml \(ENOENT\)\. .*args: \[--config, FILE\]/,
    );
  });
});
