// Shared pieces of the credential-helper mode's end-to-end tests (Action and CLI): a JWT role with
// a short token TTL, polls on lease ends, and the check that everything a job held is dead
// (JobWitness, in the harness, collects it).
import { expect } from 'vitest';
import type { JobWitness } from '../harness/job-witness.js';
import { waitFor } from '../harness/procs.js';
import type { DaemonEnv } from '../harness/types.js';

/** A copy of a role (the GitHub one by default) with a short token TTL, renewable up to `maxTtl`. */
export async function shortTokenRole(
  env: DaemonEnv,
  name: string,
  ttl: number,
  from = { mount: env.fixtures.githubMount, role: env.fixtures.github.role },
  maxTtl = 600,
): Promise<string> {
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${env.vaultAddr}/v1/${path}`, {
      method,
      headers: { 'X-Vault-Token': env.rootToken },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return r.status === 204 ? {} : ((await r.json()) as { data?: Record<string, unknown> });
  };
  const { mount } = from;
  const role = (await api('GET', `auth/${mount}/role/${from.role}`)).data ?? {};
  await api('POST', `auth/${mount}/role/${name}`, {
    role_type: 'jwt',
    bound_audiences: role.bound_audiences,
    bound_claims: role.bound_claims,
    user_claim: role.user_claim,
    token_policies: role.token_policies,
    token_ttl: ttl,
    token_max_ttl: maxTtl,
  });
  return name;
}

/** Polls until `lease` is no longer alive at the engine (it ended on its own or was revoked). */
export async function leaseEnded(env: DaemonEnv, lease: string, timeoutMs = 60_000) {
  await waitFor(
    `lease ${lease} to end`,
    async () => !env.engine.liveLeases().includes(lease),
    undefined,
    timeoutMs,
  );
}

/** Polls until the clock has passed `at` (epoch ms): a point of the job's timeline, not a race. */
export async function until(at: number): Promise<void> {
  while (Date.now() < at) await new Promise((r) => setTimeout(r, Math.min(200, at - Date.now())));
}

/** After cleanup: every credential the job held is refused by the registry, every token dead. */
export async function expectAllDead(env: DaemonEnv, w: JobWitness): Promise<void> {
  expect(w.creds.size).toBeGreaterThan(0);
  for (const c of w.creds.values())
    expect(await env.registry.canLogin(c.username, c.secret)).toBe(false);
  for (const t of w.tokens) expect(await env.vaultTokenAlive(t)).toBe(false);
  for (const l of w.leases) expect(env.engine.liveLeases()).not.toContain(l);
}
