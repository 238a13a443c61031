// AppRole and plain tokens in the test OpenBao, for the host entry points' Vault logins (the
// credential helper, the kubelet provider, the Swarm driver). Made with the root token over HTTP.
import type { TestEnv } from './types.js';

/** A root-token call to OpenBao itself; `wrapTtl` asks for a response-wrapped answer. */
export async function baoApi(
  env: Pick<TestEnv, 'baoAddr' | 'rootToken'>,
  method: string,
  path: string,
  body?: unknown,
  opts: { wrapTtl?: string; token?: string } = {},
): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { 'X-Vault-Token': opts.token ?? env.rootToken };
  if (opts.wrapTtl) headers['X-Vault-Wrap-TTL'] = opts.wrapTtl;
  const r = await fetch(`${env.baoAddr}/v1/${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`OpenBao ${method} ${path}: ${r.status} ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

export interface AppRole {
  mount: string;
  name: string;
  roleId: string;
  /** A fresh secret_id. */
  secretId(): Promise<string>;
  /** A fresh secret_id, response-wrapped for `ttl`: the wrapping token. */
  wrappedSecretId(ttl?: string): Promise<string>;
}

/** Enables AppRole at `mount` (once) and creates role `name` with `policies`. */
export async function makeAppRole(
  env: Pick<TestEnv, 'baoAddr' | 'rootToken'>,
  name: string,
  policies: string[],
  mount = 'approle',
): Promise<AppRole> {
  const mounts = (await baoApi(env, 'GET', 'sys/auth')) as Record<string, unknown>;
  if (!(`${mount}/` in ((mounts.data as Record<string, unknown>) ?? mounts)))
    await baoApi(env, 'POST', `sys/auth/${mount}`, { type: 'approle' });
  await baoApi(env, 'POST', `auth/${mount}/role/${name}`, {
    token_policies: policies,
    token_ttl: '10m',
    token_max_ttl: '20m',
  });
  const roleId = (await baoApi(env, 'GET', `auth/${mount}/role/${name}/role-id`)).data as {
    role_id: string;
  };
  const path = `auth/${mount}/role/${name}/secret-id`;
  return {
    mount,
    name,
    roleId: roleId.role_id,
    secretId: async () =>
      ((await baoApi(env, 'POST', path, {})).data as { secret_id: string }).secret_id,
    wrappedSecretId: async (ttl = '60s') =>
      ((await baoApi(env, 'POST', path, {}, { wrapTtl: ttl })).wrap_info as { token: string })
        .token,
  };
}

/** A child token of root with `policies`, as an operator or Vault Agent would hold. */
export async function makeToken(
  env: Pick<TestEnv, 'baoAddr' | 'rootToken'>,
  policies: string[],
  ttl = '10m',
): Promise<string> {
  const r = await baoApi(env, 'POST', 'auth/token/create', { policies, ttl });
  return (r.auth as { client_token: string }).client_token;
}
