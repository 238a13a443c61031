// The orb under misconfiguration and injected faults: messages that say what to fix, retries
// within the budget, a hung Vault bounded by `timeout`, cleanup that warns but never fails.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JobResult, ParamValue } from '../harness/circleci-runner.js';
import { startEnv, type TestEnv } from '../harness/index.js';
import { expectNothingAlive } from './expect-clean.js';
import { orbJob } from './orb-job.js';

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

interface JobOptions {
  login?: Record<string, ParamValue>;
  logout?: Record<string, ParamValue>;
  env?: Record<string, string | undefined>;
  hide?: string[];
  oidcEmptyAnswers?: number;
  oidcTokens?: Record<string, string>;
  noCircleciCli?: boolean;
}

/** login then logout (when: always) in one job, with the fixture role, account and registry. */
function job(opts: JobOptions = {}): Promise<JobResult> {
  const fx = env.fixtures;
  return orbJob(env, {
    login: {
      auth_mount: fx.circleciMount,
      role: fx.circleci.role,
      account: fx.account,
      registry: env.registry.host,
      ...opts.login,
    },
    logout: opts.logout ?? {},
    hide: opts.hide,
    noCircleciCli: opts.noCircleciCli,
    oidcEmptyAnswers: opts.oidcEmptyAnswers,
    oidcTokens: opts.oidcTokens ?? {
      [fx.audience]: env.issuer.circleciToken({ claims: { aud: fx.audience } }),
    },
    env: { CIRCLE_OIDC_TOKEN: env.issuer.circleciToken(), ...opts.env },
  });
}

/** Login failed with `message`, and logout still ran and passed. */
function loginFailed(r: JobResult, ...messages: string[]): void {
  expect(r.steps.map((s) => s.status)).toEqual(['failed', 'success']);
  for (const m of messages) expect(r.steps[0]?.output).toContain(m);
}

describe('orb login errors', () => {
  it('names the role when it does not exist', async () => {
    const r = await job({ login: { role: 'no-such-role' } });
    loginFailed(r, "role 'no-such-role'", "create role 'no-such-role' on auth/circleci");
  });

  it('explains an audience the role does not bind', async () => {
    const other = env.issuer.circleciToken({ claims: { aud: 'someone-else' } });
    const r = await job({
      login: { audience: 'someone-else' },
      oidcTokens: { 'someone-else': other },
    });
    loginFailed(r, "set the 'audience' parameter to one of the bound_audiences");
  });

  it('explains a project the role does not bind', async () => {
    const token = env.issuer.circleciToken({
      claims: { 'oidc.circleci.com/project-id': '00000000-0000-0000-0000-000000000000' },
    });
    const r = await job({ env: { CIRCLE_OIDC_TOKEN_V2: token } });
    loginFailed(r, 'does not match the bound_claims');
  });

  it('names the likely causes when the job has no OIDC token', async () => {
    const r = await job({ env: { CIRCLE_OIDC_TOKEN: undefined, CIRCLE_OIDC_TOKEN_V2: undefined } });
    loginFailed(r, 'no CircleCI OIDC token', 'forked pull requests', 'CircleCI Server');
    expect(r.steps[1]?.output).toContain('login had not obtained a Vault token; nothing to revoke');
  });

  it('retries an empty `circleci run oidc get` answer', async () => {
    const r = await job({ login: { audience: env.fixtures.audience }, oidcEmptyAnswers: 1 });
    expect(r.success, r.output).toBe(true);
    expect(r.circleciCalls).toHaveLength(2);
  });

  it('fails naming the causes when `circleci run oidc get` keeps answering nothing', async () => {
    const r = await job({
      login: { audience: env.fixtures.audience, retries: 1 },
      oidcEmptyAnswers: 5,
    });
    loginFailed(r, "returned no token for audience 'vault-docker-login' after 2 attempts", 'fork');
  });

  it('falls back to the job token with a warning when the circleci CLI is missing', async () => {
    const r = await job({ login: { audience: env.fixtures.audience }, noCircleciCli: true });
    expect(r.success, r.output).toBe(true);
    expect(r.output).toContain('the circleci CLI is not on PATH');
  });

  it('explains a scope the engine does not allow for the account, without retrying, and revokes the token', async () => {
    const path = `/v1/dockerhub/token/${env.fixtures.accountNoAdmin}/admin`;
    const before = env.engine.requests.filter((q) => q.path === path).length;
    const r = await job({ login: { account: env.fixtures.accountNoAdmin, scope: 'admin' } });
    loginFailed(r, 'does not allow scope', 'The logout step revokes the Vault token');
    expect(r.steps[1]?.output).toContain('Revoked the Vault token');
    // The engine's error repeats on every attempt: asked once.
    expect(env.engine.requests.filter((q) => q.path === path).length - before).toBe(1);
    expect(r.output).not.toContain('retrying');
  });

  it('a 403 at the login names the auth mount, or the /v1 the address ends in', async () => {
    const mount = await job({ login: { auth_mount: 'nope' } });
    loginFailed(
      mount,
      "no JWT auth method answers at auth/nope: set 'auth_mount' to the path where it is enabled (default jwt;",
      "'url' must not include /v1",
    );
    const v1 = await job({ login: { url: `${env.vaultAddr}/v1` } });
    loginFailed(
      v1,
      "the Vault address ends in /v1, so the login went to /v1/v1/auth/circleci/login: set 'url' (or VAULT_ADDR) to the address without /v1.",
    );
  });

  it('https:// against a plain-HTTP Vault: one sentence, no OpenSSL text, no retries', async () => {
    const https = env.vaultAddr.replace(/^http:/, 'https:');
    const r = await job({ login: { url: https } });
    loginFailed(
      r,
      `${https} answers plain HTTP, not HTTPS. use http:// in 'url' (or VAULT_ADDR), or enable TLS on Vault's listener.`,
    );
    expect(r.output).not.toMatch(/SSL routines|retrying/);
  });

  it('a 403 on a KV read without /data/ says the path needs it', async () => {
    const r = await job({ login: { account: '', secret_path: 'secret/registry/static' } });
    loginFailed(
      r,
      "If secret/ is a KV v2 mount, the path needs /data/ after the mount: secret/data/registry/static (in 'secret_path' and in the policy).",
    );
  });

  it('a registry that cannot be reached is "could not reach", with docker\'s lines once', async () => {
    const r = await job({ login: { registry: '127.0.0.1:1' } });
    loginFailed(r, "could not reach the registry 127.0.0.1:1 to log in as 'acmebot'");
    expect(r.output).not.toContain('refused the login');
    expect(r.output.match(/connect: connection refused/g)).toHaveLength(1);
  });

  it('is a clear error without curl', async () => {
    const noCurl = await job({ hide: ['curl'] });
    loginFailed(noCurl, 'curl is not installed');
  });
});

describe('orb under faults', () => {
  it('retries 503 and 429 with Retry-After on login, then succeeds', async () => {
    env.engine.faults.add({ path: '/v1/auth/circleci/login', status: 503 });
    env.engine.faults.add({ path: '/v1/auth/circleci/login', status: 429, retryAfter: 1 });
    const r = await job();
    expect(r.success, r.output).toBe(true);
    expect(r.output).toMatch(/answered 503; retrying \(1 of 2\)/);
    expect(r.output).toMatch(/answered 429; retrying \(2 of 2\)/);
  });

  it('does not retry 501 or 4xx', async () => {
    env.engine.faults.add({ path: '/v1/auth/circleci/login', status: 501, times: 3 });
    const r = await job();
    loginFailed(r, 'HTTP 501');
    expect(r.output).not.toContain('retrying');
  });

  it('retries a lost answer to the lease-creating write; logout revokes both leases', async () => {
    env.engine.faults.add({
      path: `/v1/dockerhub/token/${env.fixtures.account}/read`,
      dropAfterForward: true,
    });
    const before = env.engine.requests.length;
    const r = await job();
    expect(r.success, r.output).toBe(true);
    const writes = env.engine.requests
      .slice(before)
      .filter((q) => q.path === `/v1/dockerhub/token/${env.fixtures.account}/read`);
    expect(writes).toHaveLength(2);
    expect(r.output).toContain('no answer');
  });

  it('fails within `timeout` when Vault never answers', async () => {
    env.engine.faults.add({ path: '/v1/auth/circleci/login', delayMs: 60_000, times: 10 });
    const r = await job({ login: { timeout: 3 } });
    // How long the step takes is the benchmark's to measure (scripts/bench/deadlines.ts).
    loginFailed(r, 'no answer from', "'timeout'");
  });

  it('cleanup warns, passes and reports the lease expiry when Vault errors', async () => {
    env.engine.faults.add({ path: '/v1/auth/token/revoke-self', status: 500, times: 3 });
    env.engine.faults.add({ path: '/v1/sys/leases/revoke', status: 500, times: 3 });
    const r = await job({ logout: { retries: 0 } });
    expect(r.success, r.output).toBe(true);
    expect(r.steps[1]?.output).toMatch(/WARNING: revoking the Vault token failed: HTTP 500/);
    expect(r.steps[1]?.output).toMatch(/until its lease expires at \d{4}-\d\d-\d\dT/);
    // The fault is gone: clean up what the failed logout left, so afterEach can hold the line.
    env.engine.faults.clear();
    const leftovers = env.engine.liveLeases();
    expect(leftovers).toHaveLength(1);
    await revokeAllAsRoot();
  });
});

async function revokeAllAsRoot(): Promise<void> {
  for (const lease of env.engine.liveLeases()) {
    const res = await fetch(`${env.vaultAddr}/v1/sys/leases/revoke`, {
      method: 'PUT',
      headers: { 'X-Vault-Token': env.rootToken, 'X-Vault-Request': 'true' },
      body: JSON.stringify({ lease_id: lease }),
    });
    expect(res.status).toBeLessThan(300);
  }
}
