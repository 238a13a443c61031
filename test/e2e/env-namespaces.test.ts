// Self-test: OpenBao namespaces — log in in `ci`, lease from the engine in its child `ci/team`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnv, type TestEnv } from '../harness/index.js';

let env: TestEnv;
let ns: { login: string; engine: string };
beforeAll(async () => {
  env = await startEnv({ namespaces: true });
  ns = env.fixtures.namespaces ?? { login: '', engine: '' };
});
afterAll(async () => {
  await env?.stop();
});

async function vault(method: string, path: string, namespace: string, token = '', body?: unknown) {
  const r = await fetch(`${env.vaultAddr}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': token, 'X-Vault-Namespace': namespace },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}

const login = async (role: string) =>
  (
    await vault('POST', 'auth/github/login', ns.login, '', {
      role,
      jwt: env.issuer.githubToken(),
    })
  ).json.auth.client_token as string;

describe('namespaces', () => {
  it('names them in the fixtures', () => {
    expect(ns).toEqual({ login: 'ci', engine: 'ci/team' });
  });

  it('a token from `ci` leases in `ci/team`; docker login works; revoke-self ends it', async () => {
    const token = await login(env.fixtures.github.role);
    const r = await vault('POST', 'dockerhub/token/acmebot/read', ns.engine, token, { label: 'x' });
    expect(r.status).toBe(200);
    expect(env.engine.requests.at(-1)?.namespace).toBe('ci/team');
    const { username, token: secret } = r.json.data;
    expect(await env.registry.canLogin(username, secret)).toBe(true);
    // Same engine path addressed with the namespace in the URL instead of the header.
    const viaPath = await vault('POST', 'team/dockerhub/token/acmebot/read', ns.login, token, {});
    expect(viaPath.status).toBe(200);
    expect((await vault('POST', 'auth/token/revoke-self', ns.login, token)).status).toBe(204);
    expect(env.engine.liveLeases()).toEqual([]);
    expect(await env.registry.canLogin(username, secret)).toBe(false);
  });

  it('a lease id ends with the engine namespace’s id, which any namespace finds it by', async () => {
    const token = await login(env.fixtures.github.role);
    const r = await vault('POST', 'dockerhub/token/acmebot/read', ns.engine, token, {});
    const team = await vault('GET', 'sys/namespaces/team', ns.login, env.rootToken);
    const id = team.json.data.id as string;
    expect(r.json.lease_id).toMatch(
      /^dockerhub\/token\/acmebot\/read\/[A-Za-z0-9]{24}\.[A-Za-z0-9]+$/,
    );
    expect(r.json.lease_id.endsWith(`.${id}`)).toBe(true);
    const lease = { lease_id: r.json.lease_id };
    await vault('POST', 'sys/namespaces/other', ns.login, env.rootToken, {});
    // As OpenBao 2.7.2 answers the root token: the engine's namespace, its parent, a sibling, the root.
    for (const where of [ns.engine, ns.login, 'ci/other', '']) {
      const found = await vault('PUT', 'sys/leases/lookup', where, env.rootToken, lease);
      expect(found.json.data, where).toMatchObject({
        id: lease.lease_id,
        namespace_path: 'ci/team/',
      });
    }
    expect((await vault('PUT', 'sys/leases/revoke', ns.login, env.rootToken, lease)).status).toBe(
      204,
    );
    expect(env.engine.liveLeases()).toEqual([]);
    expect(await env.registry.canLogin('acmebot', r.json.data.token)).toBe(false);
    await vault('POST', 'auth/token/revoke-self', ns.login, token);
  });

  it('the same token in the root namespace, or for another account, gets 403', async () => {
    const token = await login(env.fixtures.github.role);
    expect((await vault('POST', 'dockerhub/token/acmebot/read', '', token, {})).status).toBe(403);
    const other = await vault('POST', 'dockerhub/token/acmereader/read', ns.engine, token, {});
    expect(other.status).toBe(403);
  });

  it('lease revoke needs `update` on sys/leases/revoke in the engine namespace', async () => {
    const plain = await login(env.fixtures.github.role);
    const a = await vault('POST', 'dockerhub/token/acmebot/read', ns.engine, plain, {});
    const denied = await vault('PUT', 'sys/leases/revoke', ns.engine, plain, {
      lease_id: a.json.lease_id,
    });
    expect(denied.status).toBe(403);

    const can = await login(env.fixtures.github.roleCanRevoke);
    const b = await vault('POST', 'dockerhub/token/acmebot/read', ns.engine, can, {});
    const ok = await vault('PUT', 'sys/leases/revoke', ns.engine, can, {
      lease_id: b.json.lease_id,
    });
    expect(ok.status).toBe(204);
    expect(env.engine.liveLeases()).toEqual([a.json.lease_id]);
    await vault('POST', 'auth/token/revoke-self', ns.login, plain);
    expect(env.engine.liveLeases()).toEqual([]);
  });
});
