// Self-test: the Docker Hub API stand-in (login, access tokens as registry secrets, several live
// per account). How long an environment takes to start is the benchmark's to measure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baoApi, makeToken } from '../harness/approle.js';
import { startEnv, type TestEnv } from '../harness/index.js';
import { waitFor } from '../harness/procs.js';
import { vaultApi } from './vault-api.js';

let env: TestEnv;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.stop();
});

const vault = (method: string, path: string, token: string, body?: unknown) =>
  vaultApi(env, method, path, token, body);

/** A token of root's whose one policy is `rules`. */
async function makeTokenWith(rules: string[]): Promise<string> {
  const name = `env-hub-${Math.random().toString(36).slice(2)}`;
  await baoApi(env, 'PUT', `sys/policies/acl/${name}`, { policy: rules.join('\n') });
  return makeToken(env, [name]);
}

const login = async (role: string) =>
  (await vault('POST', 'auth/github/login', '', { role, jwt: env.issuer.githubToken() })).json.auth
    .client_token as string;

describe('Docker Hub API stand-in behind the engine', () => {
  it('keeps every live token of an account valid; revoking one leaves the others', async () => {
    const token = await login(env.fixtures.github.roleCanRevoke);
    const older = (await vault('POST', 'dockerhub/token/acmebot/read', token, {})).json;
    const newer = (await vault('POST', 'dockerhub/token/acmebot/write', token, {})).json;
    expect(await env.registry.canLogin('acmebot', newer.data.token)).toBe(true);
    expect(await env.registry.canLogin('acmebot', older.data.token)).toBe(true);

    const r = await vault('PUT', 'sys/leases/revoke', token, { lease_id: older.lease_id });
    expect(r.status).toBe(204);
    expect(await env.registry.canLogin('acmebot', older.data.token)).toBe(false);
    expect(await env.registry.canLogin('acmebot', newer.data.token)).toBe(true);
    expect(env.hub.liveTokens().map((t) => t.scopes)).toEqual([['repo:write']]);

    // The path form is a different ACL path (as in OpenBao): the role's policy grants it for its
    // own account's leases, a policy with the body form only does not.
    const bodyOnly = await makeTokenWith([
      'path "sys/leases/revoke" { capabilities = ["update"] }',
    ]);
    const refused = await vault('PUT', `sys/leases/revoke/${newer.lease_id}`, bodyOnly);
    expect(refused.status).toBe(403);
    const pathForm = await vault('PUT', `sys/leases/revoke/${newer.lease_id}`, token);
    expect(pathForm.status).toBe(204);
    expect(env.hub.liveTokens()).toEqual([]);
    expect(await env.registry.canLogin('acmebot', newer.data.token)).toBe(false);
  });

  it('a lease never outlives the Vault token that created it', async () => {
    const child = await vault('POST', 'auth/token/create', env.rootToken, {
      ttl: '2s',
      policies: ['dockerhub-rw'],
    });
    const token = child.json.auth.client_token as string;
    const s = (await vault('POST', 'dockerhub/token/acmebot/read', token, {})).json;
    expect(s.lease_duration).toBe(300);
    expect(await env.registry.canLogin('acmebot', s.data.token)).toBe(true);
    // OpenBao ends the token on its own timer, and the lease with it: poll rather than race it.
    await waitFor(
      'the lease of the 2 s token to end',
      async () => !env.engine.liveLeases().includes(s.lease_id),
    );
    expect(await env.registry.canLogin('acmebot', s.data.token)).toBe(false);
  });

  it('refuses a bad password and a missing bearer with 401', async () => {
    const bad = await fetch(`${env.hub.url}/v2/users/login`, {
      method: 'POST',
      body: JSON.stringify({ username: 'acmebot', password: 'wrong' }),
    });
    expect(bad.status).toBe(401);
    const anon = await fetch(`${env.hub.url}/v2/access-tokens`, { method: 'POST', body: '{}' });
    expect(anon.status).toBe(401);
    expect(env.hub.liveTokens()).toEqual([]);
  });
});
