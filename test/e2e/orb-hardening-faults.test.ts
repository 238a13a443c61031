// Faults injected into the new paths of the orb: the static-secret read, a registries login, and
// a cleanup covering several registries. Every job ends with nothing alive.
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
const otherName = () => env.registry.host.replace('127.0.0.1', 'localhost');

function registries(extra: Record<string, string | number> = {}) {
  return {
    auth_mount: env.fixtures.circleciMount,
    role: env.fixtures.circleci.role,
    registries: JSON.stringify([
      { registry: env.registry.host, secret_path: enginePath() },
      { registry: otherName(), secret_path: kvPath() },
    ]),
    ...extra,
  };
}

describe('orb registries under faults', () => {
  it('retries 502 and 412 on the KV read', async () => {
    env.engine.faults.add({ path: `/v1/${kvPath()}`, status: 502 });
    env.engine.faults.add({ path: `/v1/${kvPath()}`, status: 412 });
    const r = await orbJob(env, { login: registries() });
    expect(r.success, r.output).toBe(true);
    expect(r.output).toMatch(/GET \/v1\/\S+ answered 502; retrying \(1 of 2\)/);
    expect(r.output).toMatch(/GET \/v1\/\S+ answered 412; retrying \(2 of 2\)/);
  });

  it('repeats a lease-creating write whose answer was lost; logout revokes both leases', async () => {
    env.engine.faults.add({ path: `/v1/${enginePath()}`, dropAfterForward: true });
    const before = env.engine.requests.length;
    const r = await orbJob(env, { login: registries(), logout: false });
    expect(r.success, r.output).toBe(true);
    const writes = env.engine.requests
      .slice(before)
      .filter((q) => q.path === `/v1/${enginePath()}`);
    expect(writes).toHaveLength(2);
    expect(env.engine.liveLeases()).toHaveLength(2);
    const out = await r.logoutLater();
    expect(out.success, out.output).toBe(true);
  });

  it('fails within timeout when the second source hangs, and logout still cleans the first', async () => {
    env.engine.faults.add({ path: `/v1/${kvPath()}`, delayMs: 60_000, times: 5 });
    const r = await orbJob(env, { login: registries({ timeout: 3 }) });
    expect(r.steps.map((s) => s.status)).toEqual(['failed', 'success']);
    expect(r.steps[0]?.output).toContain('no answer from');
    expect(r.steps[1]?.output).toContain(`Logged out of ${env.registry.host}`);
    expect(r.steps[1]?.output).toContain('Revoked the Vault token and lease');
  });

  it('cleanup with Vault down warns with the earliest expiry, passes, and still logs out of both', async () => {
    env.engine.faults.add({ path: '/v1/sys/leases/revoke', status: 503, times: 5 });
    env.engine.faults.add({ path: '/v1/auth/token/revoke-self', drop: true, times: 5 });
    const r = await orbJob(env, { login: registries(), logout: { retries: 1, timeout: 10 } });
    expect(r.success, r.output).toBe(true);
    const cleanup = r.steps[1]?.output ?? '';
    expect(cleanup).toMatch(/WARNING: revoking lease \S+ failed: HTTP 503/);
    expect(cleanup).toMatch(
      /WARNING: revoking the Vault token failed: no answer .*until its lease expires at \d{4}-/,
    );
    expect(storedAuths(r.home)).toEqual({});
    // The fault is gone: revoke what the failed cleanup left, so the afterEach line holds.
    env.engine.faults.clear();
    expect(env.engine.liveLeases()).toHaveLength(1);
    for (const lease of env.engine.liveLeases()) {
      const res = await fetch(`${env.vaultAddr}/v1/sys/leases/revoke`, {
        method: 'PUT',
        headers: { 'X-Vault-Token': env.rootToken },
        body: JSON.stringify({ lease_id: lease }),
      });
      expect(res.status).toBeLessThan(300);
    }
    // And the Vault token the dropped revoke-self left alive.
    const res = await fetch(
      `${env.baoAddr}/v1/sys/leases/revoke-prefix/auth/${env.fixtures.circleciMount}/login`,
      { method: 'PUT', headers: { 'X-Vault-Token': env.rootToken } },
    );
    expect(res.status).toBeLessThan(300);
  });
});
