// The orb through a real forward proxy (tinyproxy) to a plain-HTTP Vault, and across OpenBao
// namespaces: login in one namespace (`auth_namespace`), the lease in its child (`namespace`).
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEnv, type TestEnv } from '../harness/index.js';
import { expectNoLeaks } from '../harness/leak.js';
import { type ForwardProxy, startProxy } from '../harness/proxy.js';
import { expectNothingAlive } from './expect-clean.js';
import { orbJob } from './orb-job.js';

let env: TestEnv;
let proxy: ForwardProxy;
beforeAll(async () => {
  env = await startEnv({ namespaces: true });
  proxy = await startProxy(join(env.tmpDir, 'proxy'));
});
afterAll(async () => {
  await proxy?.stop();
  await env?.stop();
});
afterEach(() => {
  env.engine.faults.clear();
  expectNothingAlive(env);
});

function circleciLogin() {
  const fx = env.fixtures;
  return {
    auth_mount: fx.circleciMount,
    role: fx.circleci.role,
    account: fx.account,
    registry: env.registry.host,
  };
}

describe('orb through a forward proxy', () => {
  it.each(['HTTP_PROXY', 'http_proxy'])(
    'sends every Vault call through %s, and nothing secret reaches the proxy log',
    async (variable) => {
      const before = proxy.requests().length;
      const r = await orbJob(env, { login: circleciLogin(), env: { [variable]: proxy.url } });
      expect(r.success, r.output).toBe(true);
      const fx = env.fixtures;
      expect(proxy.requests().slice(before)).toEqual([
        `POST ${env.vaultAddr}/v1/auth/${fx.circleciMount}/login`,
        `POST ${env.vaultAddr}/v1/${fx.engineMount}/token/${fx.account}/read`,
        `PUT ${env.vaultAddr}/v1/sys/leases/revoke`,
        `POST ${env.vaultAddr}/v1/auth/token/revoke-self`,
      ]);
      expectNoLeaks(proxy.log(), env.secrets());
    },
  );

  it('bypasses the proxy for hosts in NO_PROXY', async () => {
    const before = proxy.requests().length;
    const r = await orbJob(env, {
      login: circleciLogin(),
      env: { HTTP_PROXY: proxy.url, NO_PROXY: 'example.com,127.0.0.1' },
    });
    expect(r.success, r.output).toBe(true);
    expect(proxy.requests().slice(before)).toEqual([]);
  });

  it('fails with a hint naming the proxy when the proxy is down', async () => {
    const r = await orbJob(env, {
      login: { ...circleciLogin(), retries: 0 },
      env: { HTTP_PROXY: 'http://127.0.0.1:9' },
    });
    expect(r.steps.map((s) => s.status)).toEqual(['failed', 'success']);
    expect(r.steps[0]?.output).toContain('(proxy, firewall, TLS');
  });
});

describe('orb across namespaces', () => {
  function nsLogin(extra: Record<string, string> = {}) {
    const fx = env.fixtures;
    const ns = fx.namespaces;
    if (!ns) throw new Error('startEnv({ namespaces: true }) gave no fixtures.namespaces');
    return {
      auth_mount: fx.githubMount,
      auth_namespace: ns.login,
      namespace: ns.engine,
      role: fx.github.role,
      account: fx.account,
      registry: env.registry.host,
      ...extra,
    };
  }
  // The namespace roles bind GitHub-shaped claims; the orb does not care what shape its JWT has.
  const token = () => env.issuer.githubToken();

  it('logs in with auth_namespace and leases with namespace, and cleans up in each', async () => {
    const ns = env.fixtures.namespaces;
    const before = env.engine.requests.length;
    const r = await orbJob(env, { login: nsLogin(), oidcToken: token() });
    expect(r.success, r.output).toBe(true);
    const seen = env.engine.requests
      .slice(before)
      .map((q) => `${q.method} ${q.path} ${q.namespace ?? '-'} ${q.status}`);
    expect(seen).toEqual([
      `POST /v1/auth/${env.fixtures.githubMount}/login ${ns?.login} 200`,
      `POST /v1/${env.fixtures.engineMount}/token/${env.fixtures.account}/read ${ns?.engine} 200`,
      `PUT /v1/sys/leases/revoke ${ns?.engine} 403`,
      `POST /v1/auth/token/revoke-self ${ns?.login} 204`,
    ]);
  });

  it('revokes the lease in its own namespace when the role may', async () => {
    const r = await orbJob(env, {
      login: nsLogin({ role: env.fixtures.github.roleCanRevoke }),
      oidcToken: token(),
    });
    expect(r.success, r.output).toBe(true);
    const revokes = env.engine.requests.filter((q) => q.path === '/v1/sys/leases/revoke');
    expect(revokes.at(-1)).toMatchObject({ namespace: env.fixtures.namespaces?.engine });
    expect(revokes.at(-1)?.status).toBeLessThan(300);
  });

  it('takes the lease namespace from VAULT_NAMESPACE', async () => {
    const { namespace: _, ...login } = nsLogin();
    const r = await orbJob(env, {
      login,
      oidcToken: token(),
      env: { VAULT_NAMESPACE: env.fixtures.namespaces?.engine },
    });
    expect(r.success, r.output).toBe(true);
  });

  it('explains a lease asked for in the login namespace', async () => {
    const r = await orbJob(env, {
      login: nsLogin({ namespace: env.fixtures.namespaces?.login ?? '' }),
      oidcToken: token(),
    });
    expect(r.steps.map((s) => s.status)).toEqual(['failed', 'success']);
    expect(r.steps[0]?.output).toMatch(/'namespace'/);
    expect(r.steps[1]?.output).toContain('Revoked the Vault token');
  });
});
