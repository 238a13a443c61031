// Generic credential sources for the orb against real OpenBao KV v2 and the engine stand-in:
// method, body and field mapping; a static secret (no lease); several registries in one step.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEnv, type TestEnv } from '../harness/index.js';
import { expectNothingAlive } from './expect-clean.js';
import { orbJob, storedAuths } from './orb-job.js';

let env: TestEnv;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.stop();
});
afterEach(() => {
  env.engine.faults.clear();
  expectNothingAlive(env);
});

const kvPath = () => `${env.fixtures.kvMount}/data/${env.fixtures.kvPath}`;
const enginePath = () => `${env.fixtures.engineMount}/token/${env.fixtures.account}/read`;
/** The same real registry under a second name, which docker keys separately. */
const otherName = () => env.registry.host.replace('127.0.0.1', 'localhost');

function base(extra: Record<string, string> = {}) {
  return {
    auth_mount: env.fixtures.circleciMount,
    role: env.fixtures.circleci.role,
    ...extra,
  };
}

function vaultCalls(since: number): string[] {
  return env.engine.requests.slice(since).map((q) => `${q.method} ${q.path} ${q.status}`);
}

describe('orb with a static KV v2 secret', () => {
  it('reads data.data, logs in, and logout logs out and revokes only the token', async () => {
    const before = env.engine.requests.length;
    const r = await orbJob(env, {
      login: base({ secret_path: kvPath(), registry: env.registry.host }),
      logout: false,
    });
    expect(r.success, r.output).toBe(true);
    expect(r.output).toContain('(a static secret, no lease to revoke)');
    const cred = storedAuths(r.home)[env.registry.host];
    expect(cred?.username).toBe(env.fixtures.kvUsername);
    expect(await env.registry.canLogin(cred?.username ?? '', cred?.secret ?? '')).toBe(true);

    const out = await r.logoutLater();
    expect(out.success, out.output).toBe(true);
    expect(out.output).toContain(`Logged out of ${env.registry.host}`);
    expect(out.output).toContain('Revoked the Vault token and no lease (static secrets)');
    expect(storedAuths(r.home)[env.registry.host]).toBeUndefined();
    expect(vaultCalls(before)).toEqual([
      `POST /v1/auth/${env.fixtures.circleciMount}/login 200`,
      `GET /v1/${kvPath()} 200`,
      'POST /v1/auth/token/revoke-self 204',
    ]);
  });

  it('takes explicit username_field / password_field and secret_method read, without jq or python3', async () => {
    const r = await orbJob(env, {
      login: base({
        secret_path: kvPath(),
        secret_method: 'read',
        username_field: 'username',
        password_field: 'password',
        registry: env.registry.host,
      }),
      hide: ['jq', 'python3'],
    });
    expect(r.success, r.output).toBe(true);
    expect(r.output).toContain(`as '${env.fixtures.kvUsername}'`);
  });

  it.each([
    ['password_field', { password_field: 'token' }, "no non-empty text field 'token'"],
    ['username_field', { username_field: 'user' }, "no non-empty text field 'user'"],
  ])('names the fields present (never values) when %s is wrong', async (_, fields, message) => {
    const r = await orbJob(env, {
      login: base({ secret_path: kvPath(), registry: env.registry.host, ...fields }),
    });
    expect(r.steps.map((s) => s.status)).toEqual(['failed', 'success']);
    expect(r.steps[0]?.output).toContain(message);
    expect(r.steps[0]?.output).toContain('fields present: password, username');
    expect(r.steps[1]?.output).toContain('Revoked the Vault token');
  });

  it('is an error listing field names, never values, when no secret field is found', async () => {
    // lookup-self is granted by the default policy; its answer holds the Vault token as `id`.
    const r = await orbJob(env, {
      login: base({ secret_path: 'auth/token/lookup-self', registry: env.registry.host }),
    });
    expect(r.steps.map((s) => s.status)).toEqual(['failed', 'success']);
    const out = r.steps[0]?.output ?? '';
    expect(out).toContain('has no token, password, secret or access_token field');
    expect(out).toMatch(/fields present: accessor, .*\bid\b.*policies/);
    expect(out).toContain("Set 'password_field'");
  });

  it('explains a write the policy does not allow on a KV path', async () => {
    const r = await orbJob(env, {
      login: base({
        secret_path: kvPath(),
        secret_method: 'write',
        secret_body: '{"data": {"x": "y"}}',
        registry: env.registry.host,
      }),
    });
    expect(r.steps[0]?.status).toBe('failed');
    expect(r.steps[0]?.output).toContain(`Vault refused the credential at ${kvPath()} (write)`);
    expect(r.steps[0]?.output).toContain('HTTP 403');
  });
});

describe('orb with an engine path as secret_path', () => {
  it('writes secret_body to it with secret_method write', async () => {
    const r = await orbJob(env, {
      login: base({
        secret_path: enginePath(),
        secret_method: 'write',
        secret_body: '{"label": "custom-label"}',
        registry: env.registry.host,
      }),
      logout: false,
    });
    expect(r.success, r.output).toBe(true);
    expect(env.hub.liveTokens().map((t) => t.label)).toEqual(['custom-label']);
    const out = await r.logoutLater();
    expect(out.output).toContain('Revoked the Vault token and lease');
  });

  it('explains a read of an engine path, which the policy (create only) refuses', async () => {
    const r = await orbJob(env, {
      login: base({ secret_path: enginePath(), secret_method: 'read' }),
    });
    expect(r.steps[0]?.status).toBe('failed');
    expect(r.steps[0]?.output).toContain('HTTP 403');
    expect(r.steps[0]?.output).toContain('needs capabilities ["read"]');
    expect(r.steps[0]?.output).toContain('Docker Hub engine paths are written');
  });
});

describe('orb with several registries in one step', () => {
  const registries = () =>
    JSON.stringify([
      { registry: env.registry.host, secret_path: enginePath() },
      { registry: otherName(), secret_path: kvPath(), username_field: 'username' },
    ]);

  it('logs in to both with one Vault login, and logout cleans up both', async () => {
    const before = env.engine.requests.length;
    const r = await orbJob(env, { login: base({ registries: registries() }), logout: false });
    expect(r.success, r.output).toBe(true);
    const auths = storedAuths(r.home);
    expect(Object.keys(auths).sort()).toEqual([env.registry.host, otherName()].sort());
    expect(auths[env.registry.host]?.username).toBe(env.fixtures.account);
    expect(auths[otherName()]?.username).toBe(env.fixtures.kvUsername);
    for (const c of Object.values(auths)) {
      expect(await env.registry.canLogin(c.username, c.secret)).toBe(true);
    }
    expect(r.bashEnv).toContain(
      `VAULT_DOCKER_LOGIN_REGISTRIES=${`${env.registry.host} ${otherName()}`.replace(' ', '\\ ')}`,
    );
    expect(env.engine.liveLeases()).toHaveLength(1);
    expect(statSync(join(r.home, '.docker', 'config.json')).mode & 0o777).toBe(0o600);

    const out = await r.logoutLater();
    expect(out.success, out.output).toBe(true);
    expect(out.output).toContain(`Logged out of ${env.registry.host}`);
    expect(out.output).toContain(`Logged out of ${otherName()}`);
    expect(storedAuths(r.home)).toEqual({});
    const engineToken = auths[env.registry.host];
    expect(
      await env.registry.canLogin(engineToken?.username ?? '', engineToken?.secret ?? ''),
    ).toBe(false);
    expect(vaultCalls(before)).toEqual([
      `POST /v1/auth/${env.fixtures.circleciMount}/login 200`,
      `POST /v1/${enginePath()} 200`,
      `GET /v1/${kvPath()} 200`,
      'PUT /v1/sys/leases/revoke 403',
      'POST /v1/auth/token/revoke-self 204',
    ]);
  });

  it('cleans up the first registry when the second fails', async () => {
    const list = JSON.stringify([
      { registry: env.registry.host, secret_path: enginePath() },
      { registry: otherName(), secret_path: `${env.fixtures.kvMount}/data/no/such/secret` },
    ]);
    const r = await orbJob(env, { login: base({ registries: list }) });
    expect(r.steps.map((s) => s.status)).toEqual(['failed', 'success']);
    expect(r.steps[0]?.output).toContain('no/such/secret');
    expect(r.steps[1]?.output).toContain(`Logged out of ${env.registry.host}`);
    expect(r.steps[1]?.output).toContain('Revoked the Vault token and lease');
  });

  it('logs in to several registries with neither jq nor python3 on PATH', async () => {
    const r = await orbJob(env, {
      login: base({ registries: registries() }),
      hide: ['jq', 'python3'],
    });
    expect(r.success, r.output).toBe(true);
    expect(r.output).toContain(`Logged in to ${otherName()} as '${env.fixtures.kvUsername}'`);
  });
});
