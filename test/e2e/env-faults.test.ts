// Self-test: injected faults do exactly what they say, on the engine stand-in and on the issuer.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEnv, type TestEnv } from '../harness/index.js';

let env: TestEnv;
beforeAll(async () => {
  env = await startEnv();
});
afterEach(() => {
  env.engine.faults.clear();
  env.issuer.faults.clear();
});
afterAll(async () => {
  await env?.stop();
});

const health = () => fetch(`${env.vaultAddr}/v1/sys/health`);

async function login(): Promise<string> {
  const r = await fetch(`${env.vaultAddr}/v1/auth/github/login`, {
    method: 'POST',
    body: JSON.stringify({ role: env.fixtures.github.role, jwt: env.issuer.githubToken() }),
  });
  return ((await r.json()) as { auth: { client_token: string } }).auth.client_token;
}

describe('engine stand-in faults', () => {
  it.each([
    [412, 'required index state not present'],
    [500, 'internal error'],
    [502, 'bad gateway'],
    [503, 'Vault is sealed'],
  ])('status %i answers Vault-style errors for the next N requests only', async (status, text) => {
    env.engine.faults.add({ path: '/v1/sys/health', status, times: 2 });
    expect(env.engine.faults.pending()).toBe(1);
    for (let i = 0; i < 2; i++) {
      const r = await health();
      expect(r.status).toBe(status);
      expect(await r.json()).toEqual({ errors: [text] });
    }
    expect(env.engine.faults.pending()).toBe(0);
    expect((await health()).status).toBe(200);
  });

  it('429 carries Retry-After', async () => {
    env.engine.faults.add({ path: '/v1/auth/', status: 429, retryAfter: 3 });
    const r = await fetch(`${env.vaultAddr}/v1/auth/github/login`, { method: 'POST', body: '{}' });
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('3');
    expect(await r.json()).toEqual({
      errors: ['request path "/v1/auth/github/login": rate limit quota exceeded'],
    });
  });

  it('matches a RegExp path and a method, and leaves other requests alone', async () => {
    env.engine.faults.add({ path: /^\/v1\/sys\/he.lth$/, method: 'POST', status: 500 });
    expect((await health()).status).toBe(200);
    expect(env.engine.faults.pending()).toBe(1);
    const r = await fetch(`${env.vaultAddr}/v1/sys/health`, { method: 'POST' });
    expect(r.status).toBe(500);
  });

  it('delays, then forwards', async () => {
    env.engine.faults.add({ path: '/v1/sys/health', delayMs: 400 });
    const t0 = Date.now();
    expect((await health()).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(390);
  });

  it('drops the connection without an answer', async () => {
    env.engine.faults.add({ path: '/v1/sys/health', drop: true });
    await expect(health()).rejects.toThrow();
    expect((await health()).status).toBe(200);
  });

  it('dropAfterForward: the request takes effect upstream but the answer is lost', async () => {
    const token = await login();
    env.engine.faults.add({ path: '/v1/auth/token/revoke-self', dropAfterForward: true });
    await expect(
      fetch(`${env.vaultAddr}/v1/auth/token/revoke-self`, {
        method: 'POST',
        headers: { 'X-Vault-Token': token },
      }),
    ).rejects.toThrow();
    expect(await env.vaultTokenAlive(token)).toBe(false);
  });

  it('logs every request with its status and namespace', async () => {
    const before = env.engine.requests.length;
    env.engine.faults.add({ path: '/v1/sys/health', status: 503 });
    await fetch(`${env.vaultAddr}/v1/sys/health`, { headers: { 'X-Vault-Namespace': 'team' } });
    await health();
    const seen = env.engine.requests.slice(before);
    expect(seen.map((r) => [r.method, r.path, r.status, r.namespace])).toEqual([
      ['GET', '/v1/sys/health', 503, 'team'],
      ['GET', '/v1/sys/health', 200, undefined],
    ]);
  });
});

describe('issuer faults', () => {
  it('apply to the runner ID-token endpoint', async () => {
    const { requestUrl, requestToken } = env.issuer.github;
    env.issuer.faults.add({ path: '/_apis/idtoken', status: 503, retryAfter: 1 });
    const get = () => fetch(requestUrl, { headers: { Authorization: `Bearer ${requestToken}` } });
    const r = await get();
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('1');
    expect((await get()).status).toBe(200);
    expect(
      env.issuer.requests.filter((q) => q.path === '/_apis/idtoken').map((q) => q.status),
    ).toEqual([503, 200]);
  });
});

describe('dropAfterForward on the engine path', () => {
  it('creates the lease and the Hub token, but the client never hears of them', async () => {
    const token = await login();
    const before = env.engine.liveLeases().length;
    env.engine.faults.add({ path: '/v1/dockerhub/token/', dropAfterForward: true });
    await expect(
      fetch(`${env.vaultAddr}/v1/dockerhub/token/acmebot/read`, {
        method: 'POST',
        headers: { 'X-Vault-Token': token },
        body: '{}',
      }),
    ).rejects.toThrow();
    expect(env.engine.liveLeases()).toHaveLength(before + 1);
    await fetch(`${env.vaultAddr}/v1/auth/token/revoke-self`, {
      method: 'POST',
      headers: { 'X-Vault-Token': token },
    });
    expect(env.engine.liveLeases()).toHaveLength(before);
  });
});
