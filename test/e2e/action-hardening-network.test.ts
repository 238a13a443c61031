// The Action through a real forward proxy (tinyproxy), across OpenBao namespaces (login in one,
// lease in its child), and the engine's "unknown account" error end to end.
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEnv } from '../harness/index.js';
import { expectNoLeaks } from '../harness/leak.js';
import { type ForwardProxy, startProxy } from '../harness/proxy.js';
import type { TestEnv } from '../harness/types.js';
import { actionJob, baseInputs, seenSince } from './action-hardening-job.js';
import { expectNothingAlive } from './expect-clean.js';

let env: TestEnv;
let proxy: ForwardProxy;
const ANY_ACCOUNT_ROLE = 'vdl-test-any-account';

beforeAll(async () => {
  env = await startEnv({ namespaces: true });
  proxy = await startProxy(join(env.tmpDir, 'proxy'));
  // Test-only role whose policy reaches every account, so an unknown one gets to the engine.
  const bao = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${env.baoAddr}/v1/${path}`, {
      method,
      headers: { 'X-Vault-Token': env.rootToken },
      body: JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  };
  const mount = env.fixtures.engineMount;
  await bao('PUT', `sys/policies/acl/${ANY_ACCOUNT_ROLE}`, {
    policy: `path "${mount}/token/*" { capabilities = ["create", "update"] }`,
  });
  await bao('POST', `auth/${env.fixtures.githubMount}/role/${ANY_ACCOUNT_ROLE}`, {
    role_type: 'jwt',
    user_claim: 'sub',
    bound_audiences: [env.fixtures.audience],
    bound_claims: { repository: env.fixtures.github.repository },
    token_policies: [ANY_ACCOUNT_ROLE],
    token_ttl: '10m',
  });
});
afterAll(async () => {
  await proxy?.stop();
  await env?.stop();
});
afterEach(() => {
  env.engine.faults.clear();
  expectNothingAlive(env);
});

async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('action through a forward proxy', () => {
  it.each(['HTTP_PROXY', 'http_proxy'])(
    'sends the identity request and every Vault call of main and post through %s',
    async (variable) => {
      const before = proxy.requests().length;
      const job = await actionJob(env, {
        inputs: baseInputs(env),
        extraEnv: { [variable]: proxy.url },
      });
      expect(job.run.main.exitCode, job.run.main.output).toBe(0);
      expect(job.run.post?.exitCode).toBe(0);
      // undici tunnels through the proxy (CONNECT), also for plain-HTTP targets: one tunnel per
      // connection, so main opens one to the issuer and one to Vault, post one to Vault.
      const carried = proxy.requests().slice(before);
      const issuer = `CONNECT ${new URL(env.issuer.url).host}`;
      const vault = `CONNECT ${new URL(env.vaultAddr).host}`;
      expect(carried[0]).toBe(issuer);
      expect(carried.filter((r) => r === vault).length).toBeGreaterThanOrEqual(2);
      expect(carried.filter((r) => r !== issuer && r !== vault)).toEqual([]);
      expectNoLeaks(proxy.log(), env.secrets());
    },
  );

  it('bypasses the proxy for hosts in NO_PROXY', async () => {
    const before = proxy.requests().length;
    const job = await actionJob(env, {
      inputs: baseInputs(env),
      extraEnv: { HTTP_PROXY: proxy.url, NO_PROXY: 'example.com,127.0.0.1' },
    });
    expect(job.run.main.exitCode, job.run.main.output).toBe(0);
    expect(proxy.requests().slice(before)).toEqual([]);
  });

  it('a dead proxy fails main with a message naming the proxy and NO_PROXY', async () => {
    const port = await deadPort();
    const job = await actionJob(env, {
      inputs: baseInputs(env, { retries: '0' }),
      // Credentials in the proxy URL must never be printed.
      extraEnv: { HTTP_PROXY: `http://proxyuser:proxy-pass-123@127.0.0.1:${port}` },
      extraSecrets: ['proxy-pass-123'],
    });
    expect(job.run.main.exitCode).toBe(1);
    expect(job.error).toMatch(
      new RegExp(
        `^Cannot reach http://127\\.0\\.0\\.1:\\d+/_apis/idtoken through the proxy http://127\\.0\\.0\\.1:${port} \\(HTTP_PROXY\\): `,
      ),
    );
    expect(job.error).toContain('Check the proxy in HTTP_PROXY, or list 127.0.0.1 in NO_PROXY.');
    expect(job.run.post?.exitCode).toBe(0);
  });
});

describe('action across namespaces', () => {
  function nsInputs(extra: Record<string, string> = {}) {
    const ns = env.fixtures.namespaces;
    if (!ns) throw new Error('startEnv({ namespaces: true }) gave no fixtures.namespaces');
    return baseInputs(env, { 'auth-namespace': ns.login, namespace: ns.engine, ...extra });
  }

  it('logs in with auth-namespace, leases with namespace, and cleans up in each', async () => {
    const ns = env.fixtures.namespaces;
    const from = env.engine.requests.length;
    const job = await actionJob(env, { inputs: nsInputs() });
    expect(job.run.main.exitCode, job.run.main.output).toBe(0);
    const seen = env.engine.requests
      .slice(from)
      .map((q) => `${q.method} ${q.path} ${q.namespace ?? '-'} ${q.status}`);
    const fx = env.fixtures;
    expect(seen).toEqual([
      `POST /v1/auth/${fx.githubMount}/login ${ns?.login} 200`,
      `POST /v1/${fx.engineMount}/token/${fx.account}/read ${ns?.engine} 200`,
      `PUT /v1/sys/leases/revoke/${job.run.outputs['lease-id']} ${ns?.engine} 403`,
      `POST /v1/auth/token/revoke-self ${ns?.login} 204`,
    ]);
    expect(await env.vaultTokenAlive(job.vaultToken)).toBe(false);
  });

  it('revokes the lease in its own namespace when the role may', async () => {
    const ns = env.fixtures.namespaces;
    const from = env.engine.requests.length;
    const job = await actionJob(env, {
      inputs: nsInputs({ role: env.fixtures.github.roleCanRevoke }),
    });
    expect(job.run.post?.output).toContain(`Lease ${job.run.outputs['lease-id']} revoked.`);
    const path = `/v1/sys/leases/revoke/${job.run.outputs['lease-id']}`;
    expect(seenSince(env, from)).toContain(`PUT ${path} 204`);
    const revoke = env.engine.requests.slice(from).find((q) => q.path === path);
    expect(revoke?.namespace).toBe(ns?.engine);
  });

  it('takes the namespace from VAULT_NAMESPACE when the input is empty', async () => {
    const ns = env.fixtures.namespaces;
    const from = env.engine.requests.length;
    const job = await actionJob(env, {
      inputs: nsInputs({ namespace: '' }),
      extraEnv: { VAULT_NAMESPACE: ns?.engine },
    });
    expect(job.run.main.exitCode, job.run.main.output).toBe(0);
    const lease = env.engine.requests.slice(from).find((q) => q.path.includes('/token/'));
    expect(lease?.namespace).toBe(ns?.engine);
    const login = env.engine.requests.slice(from).find((q) => q.path.endsWith('/login'));
    expect(login?.namespace).toBe(ns?.login);
  });

  it('VAULT_NAMESPACE alone is used for login too (auth-namespace defaults to namespace)', async () => {
    const ns = env.fixtures.namespaces;
    const job = await actionJob(env, {
      inputs: baseInputs(env),
      extraEnv: { VAULT_NAMESPACE: ns?.login },
    });
    // The lease is asked for in the login namespace, where no engine is mounted: a clear failure.
    expect(job.run.main.exitCode).toBe(1);
    expect(job.error).toContain(`in namespace "${ns?.login}"`);
    expect(job.run.post?.exitCode).toBe(0);
    expect(await env.vaultTokenAlive(job.vaultToken)).toBe(false);
  });
});

describe("the engine's unknown account", () => {
  it('reaches the engine and is explained naming the account input', async () => {
    const job = await actionJob(env, {
      inputs: baseInputs(env, { role: ANY_ACCOUNT_ROLE, account: 'nobody-here' }),
    });
    expect(job.run.main.exitCode).toBe(1);
    expect(job.error).toContain(
      `The Docker Hub engine at ${env.fixtures.engineMount}/ has no account "nobody-here" (nothing at ${env.fixtures.engineMount}/config/nobody-here).`,
    );
    expect(job.error).toContain('Check the account input, or configure the account on the engine:');
    expect(job.error).not.toContain('error occurred');
    expect(await env.vaultTokenAlive(job.vaultToken)).toBe(false);
  });
});
