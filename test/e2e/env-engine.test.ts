// Self-test: the Docker Hub engine stand-in issues tokens the real docker CLI can log in with,
// behind real OpenBao ACLs, and every way a lease ends makes the same login fail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnv, type TestEnv } from '../harness/index.js';
import { waitFor } from '../harness/procs.js';
import { expectNothingAlive } from './expect-clean.js';
import { vaultApi } from './vault-api.js';

let env: TestEnv;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.stop();
});

interface Secret {
  lease_id: string;
  lease_duration: number;
  renewable: boolean;
  data: { token: string; uuid: string; username: string; scope: string };
}

const vault = (method: string, path: string, token: string, body?: unknown) =>
  vaultApi(env, method, path, token, body);

async function loginAs(role: string): Promise<string> {
  const r = await vault('POST', 'auth/github/login', '', { role, jwt: env.issuer.githubToken() });
  expect(r.status).toBe(200);
  return r.json.auth.client_token;
}

async function issue(token: string, scope = 'read', account = env.fixtures.account) {
  return vault('POST', `dockerhub/token/${account}/${scope}`, token, { label: 'ci-job' });
}

const multi = (msg: string) => `1 error occurred:\n\t* ${msg}\n\n`;

describe('Docker Hub engine stand-in', () => {
  it('issues a leased token shaped like the plugin’s; docker login works with it', async () => {
    const token = await loginAs(env.fixtures.github.role);
    const { status, json } = await issue(token);
    expect(status).toBe(200);
    const s = json as Secret;
    expect(s.lease_id).toMatch(/^dockerhub\/token\/acmebot\/read\/[A-Za-z0-9]{24}$/);
    expect(s.renewable).toBe(false);
    expect(s.lease_duration).toBe(300);
    expect(s.data.username).toBe(env.fixtures.account);
    expect(s.data.scope).toBe('read');
    expect(s.data.token).toMatch(/^dckr_pat_/);
    expect(json.wrap_info).toBeNull();
    expect(env.hub.liveTokens()).toContainEqual({
      uuid: s.data.uuid,
      username: env.fixtures.account,
      label: 'ci-job',
      scopes: ['repo:read'],
    });
    expect(await env.registry.canLogin(s.data.username, s.data.token)).toBe(true);
    expect(await env.registry.canLogin(s.data.username, 'dckr_pat_wrong')).toBe(false);
    expect(env.secrets()).toContain(s.data.token);
    expect(env.secrets()).toContain(Buffer.from(`acmebot:${s.data.token}`).toString('base64'));

    const lookup = await vault('PUT', 'sys/leases/lookup', token, { lease_id: s.lease_id });
    expect(lookup.status).toBe(200);
    expect(lookup.json.data.id).toBe(s.lease_id);
    expect(lookup.json.data.ttl).toBeGreaterThan(290);
    await vault('POST', 'auth/token/revoke-self', token);
  });

  it('after sys/leases/revoke the same docker login is refused', async () => {
    const token = await loginAs(env.fixtures.github.roleCanRevoke);
    const s = (await issue(token)).json as Secret;
    expect(await env.registry.canLogin(s.data.username, s.data.token)).toBe(true);
    const r = await vault('PUT', 'sys/leases/revoke', token, { lease_id: s.lease_id });
    expect(r.status).toBe(204);
    expect(env.engine.liveLeases()).not.toContain(s.lease_id);
    expect(env.hub.liveTokens().map((t) => t.uuid)).not.toContain(s.data.uuid);
    expect(await env.registry.canLogin(s.data.username, s.data.token)).toBe(false);
  });

  it('the default policy may not revoke a lease: 403 as OpenBao, lease kept', async () => {
    const token = await loginAs(env.fixtures.github.role);
    const s = (await issue(token)).json as Secret;
    const r = await vault('PUT', 'sys/leases/revoke', token, { lease_id: s.lease_id });
    expect(r).toEqual({ status: 403, json: { errors: [multi('permission denied')] } });
    expect(env.engine.liveLeases()).toContain(s.lease_id);
    await vault('POST', 'auth/token/revoke-self', token);
  });

  it('after auth/token/revoke-self every lease of the token is gone and login is refused', async () => {
    const token = await loginAs(env.fixtures.github.role);
    const a = (await issue(token)).json as Secret;
    const b = (await issue(token, 'write')).json as Secret;
    // Two live tokens of one account both log in, as on Docker Hub.
    expect(await env.registry.canLogin(a.data.username, a.data.token)).toBe(true);
    expect(await env.registry.canLogin(b.data.username, b.data.token)).toBe(true);
    const r = await vault('POST', 'auth/token/revoke-self', token);
    expect(r.status).toBe(204);
    expect(await env.vaultTokenAlive(token)).toBe(false);
    const live = env.engine.liveLeases();
    expect(live).not.toContain(a.lease_id);
    expect(live).not.toContain(b.lease_id);
    const uuids = env.hub.liveTokens().map((t) => t.uuid);
    expect(uuids).not.toContain(a.data.uuid);
    expect(uuids).not.toContain(b.data.uuid);
    expect(await env.registry.canLogin(a.data.username, a.data.token)).toBe(false);
    expect(await env.registry.canLogin(b.data.username, b.data.token)).toBe(false);
  });

  it('after the lease TTL the same login is refused', async () => {
    env.engine.setLeaseTtl(1);
    try {
      const token = await loginAs(env.fixtures.github.role);
      const s = (await issue(token)).json as Secret;
      expect(s.lease_duration).toBe(1);
      expect(await env.registry.canLogin(s.data.username, s.data.token)).toBe(true);
      // The stand-in ends the lease on its own timer: poll for it rather than race it.
      await waitFor(
        'the 1 s lease to end',
        async () => !env.engine.liveLeases().includes(s.lease_id),
      );
      expect(env.hub.liveTokens().map((t) => t.uuid)).not.toContain(s.data.uuid);
      expect(await env.registry.canLogin(s.data.username, s.data.token)).toBe(false);
    } finally {
      env.engine.setLeaseTtl(300);
    }
  });

  it('with Docker Hub’s documented 204 to a delete, the revocation fails as the plugin’s does, yet the token is dead', async () => {
    const revokeError = (status: number) => ({
      status: 400,
      json: {
        errors: [
          `failed to revoke entry: resp: (*logical.Response)(nil) err: failed to delete auth token ${status}`,
        ],
      },
    });
    env.hub.setDeleteStatus(204);
    try {
      const token = await loginAs(env.fixtures.github.roleCanRevoke);
      const a = (await issue(token)).json as Secret;
      const b = (await issue(token, 'write')).json as Secret;
      const r = await vault('PUT', 'sys/leases/revoke', token, { lease_id: a.lease_id });
      expect(r).toEqual(revokeError(204));
      expect(env.engine.liveLeases()).toContain(a.lease_id);
      expect(await env.registry.canLogin(a.data.username, a.data.token)).toBe(false);
      // revoke-self still ends the token; the plugin fails b's revocation the same way.
      expect((await vault('POST', 'auth/token/revoke-self', token)).status).toBe(204);
      expect(await env.vaultTokenAlive(token)).toBe(false);
      expect(env.engine.liveLeases()).toContain(b.lease_id);
      expect(await env.registry.canLogin(b.data.username, b.data.token)).toBe(false);
      // Each later try signs in and deletes a token Docker Hub no longer has: 404, forever.
      env.hub.setDeleteStatus(202);
      const again = await vault('PUT', 'sys/leases/revoke', env.rootToken, {
        lease_id: a.lease_id,
      });
      expect(again).toEqual(revokeError(404));
      // `vault lease revoke -force -prefix dockerhub/token/`, as dockerhub-engine.md says.
      const prefix = `dockerhub/token/${env.fixtures.account}`;
      const force = await vault('PUT', `sys/leases/revoke-force/${prefix}`, env.rootToken);
      expect(force.status).toBe(204);
      expect(env.engine.liveLeases()).toEqual([]);
    } finally {
      env.hub.setDeleteStatus(202);
    }
  });

  it('a policy without create gets 403; GET gets 405 when readable', async () => {
    const token = await loginAs(env.fixtures.github.roleNoCreate);
    expect(await issue(token)).toEqual({
      status: 403,
      json: { errors: [multi('permission denied')] },
    });
    const get = await vault('GET', 'dockerhub/token/acmebot/read', token);
    expect(get).toEqual({ status: 405, json: { errors: [multi('unsupported operation')] } });
  });

  it('an invalid Vault token gets OpenBao’s 403', async () => {
    expect(await issue('not-a-token')).toEqual({
      status: 403,
      json: { errors: ['permission denied'] },
    });
  });

  it('plugin errors are 500 with its multierror text', async () => {
    const token = await loginAs(env.fixtures.github.role);
    expect(await issue(token, 'admin', env.fixtures.accountNoAdmin)).toEqual({
      status: 500,
      json: { errors: [multi('requested scope "admin" is not permitted for user "acmereader"')] },
    });
    expect(await issue(token, 'read', 'acmebot2').then((r) => r.status)).toBe(403);
    const root = await vault('POST', 'dockerhub/token/nobody/read', env.rootToken, {});
    expect(root).toEqual({
      status: 500,
      json: { errors: [multi('unable to finde configuration for "nobody"')] },
    });
  });

  it('a KV v2 read with a logged-in token returns the static credentials', async () => {
    const token = await loginAs(env.fixtures.github.role);
    const fx = env.fixtures;
    const r = await vault('GET', `${fx.kvMount}/data/${fx.kvPath}`, token);
    expect(r.status).toBe(200);
    const { username, password } = r.json.data.data;
    expect(username).toBe(fx.kvUsername);
    expect(await env.registry.canLogin(username, password)).toBe(true);
    expect(env.secrets()).toContain(password);
  });
});

describe('after all tests above', () => {
  it('no lease and no Hub token is left alive', () => {
    expectNothingAlive(env);
  });
});
