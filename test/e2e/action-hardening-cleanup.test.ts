// The Action's post step when Vault errors, drops, hangs or is gone: warnings that name when the
// lease ends on its own, exit 0, docker logout regardless; post after a failed main; post twice.

import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEnv } from '../harness/index.js';
import type { FaultRule, TestEnv } from '../harness/types.js';
import { actionJob, baseInputs, type Job, revokeLeftToken } from './action-hardening-job.js';
import { expectNothingAlive } from './expect-clean.js';

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

const REVOKE = '/v1/sys/leases/revoke';
const REVOKE_SELF = '/v1/auth/token/revoke-self';

/** A port nothing listens on (bound, then closed): Vault stopped. */
async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function storedAuth(job: Job): unknown {
  const file = join(job.run.dockerConfig, 'config.json');
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { auths?: Record<string, unknown> }).auths?.[
    env.registry.host
  ];
}

/** A logged-in main, its post not yet run; the role may revoke leases so both calls are made. */
async function loggedIn(extra: Record<string, string> = {}) {
  const job = await actionJob(env, {
    inputs: baseInputs(env, {
      role: env.fixtures.github.roleCanRevoke,
      retries: '1',
      timeout: '3',
      ...extra,
    }),
    post: false,
  });
  expect(job.run.main.exitCode, job.run.main.output).toBe(0);
  expect(storedAuth(job)).toBeDefined();
  return job;
}

const ttlNote = (job: Job) =>
  `it expires on its own at ${job.run.outputs['expires-at']} (TTL ${job.run.outputs['lease-duration']} s)`;

describe('post with Vault failing', () => {
  it.each<[string, Omit<FaultRule, 'path'>, RegExp]>([
    [
      'erroring (503)',
      { status: 503 },
      /Vault answered 503 on auth\/token\/revoke-self: Vault is sealed/,
    ],
    ['erroring (500)', { status: 500 }, /Vault answered 500 on auth\/token\/revoke-self/],
    [
      'dropping connections',
      { drop: true },
      /Cannot reach http:\/\/127\.0\.0\.1:\d+\/v1\/auth\/token\/revoke-self/,
    ],
    ['hanging', { delayMs: 20_000 }, /No answer from \S+\/v1\/auth\/token\/revoke-self within/],
  ])('%s: warns with the lease expiry, exits 0, still logs out', async (_n, fault, why) => {
    const job = await loggedIn();
    env.engine.faults.add({ path: REVOKE, ...fault, times: 10 });
    env.engine.faults.add({ path: REVOKE_SELF, ...fault, times: 10 });
    const post = await job.post();
    expect(post.exitCode, post.output).toBe(0);
    // That both calls share one cleanup budget (timeout 3 s), however Vault misbehaves, is timed
    // by the benchmark (scripts/bench/deadlines.ts).
    const warnings = job.warnings();
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain(`Could not revoke lease ${job.run.outputs['lease-id']}`);
    expect(warnings[1]).toMatch(why);
    for (const w of warnings) expect(w).toContain(ttlNote(job));
    expect(post.output).toContain(`docker logout from ${env.registry.host}.`);
    expect(storedAuth(job)).toBeUndefined();
    expect(env.engine.liveLeases()).toContain(job.run.outputs['lease-id']);
    env.engine.faults.clear();
    await revokeLeftToken(env, job.vaultToken);
  });

  it('stopped (connection refused): warns with the expiry, exits 0, still logs out', async () => {
    const job = await loggedIn();
    const post = await job.post({ INPUT_URL: `http://127.0.0.1:${await deadPort()}` });
    expect(post.exitCode, post.output).toBe(0);
    const warnings = job.warnings();
    expect(warnings).toHaveLength(2);
    for (const w of warnings) {
      expect(w).toMatch(/Cannot reach http:\/\/127\.0\.0\.1:\d+\/v1\/\S+: ECONNREFUSED/);
      expect(w).toContain(ttlNote(job));
    }
    expect(post.output).toMatch(/Retrying PUT sys\/leases\/revoke\/\S+ in \d+ ms \(retry 1 of 1\)/);
    expect(storedAuth(job)).toBeUndefined();
    await revokeLeftToken(env, job.vaultToken);
  });

  it('recovers by itself from one 503 and one dropped connection', async () => {
    const job = await loggedIn();
    env.engine.faults.add({ path: REVOKE, status: 503 });
    env.engine.faults.add({ path: REVOKE_SELF, drop: true });
    const post = await job.post();
    expect(post.exitCode).toBe(0);
    expect(job.warnings()).toEqual([]);
    expect(post.output).toContain(`Lease ${job.run.outputs['lease-id']} revoked.`);
    expect(post.output).toContain('Vault token revoked');
    expect(await env.vaultTokenAlive(job.vaultToken)).toBe(false);
  });

  it('a failed cleanup is retried by a later post, which then revokes', async () => {
    const job = await loggedIn();
    env.engine.faults.add({ path: REVOKE_SELF, status: 503, times: 10 });
    env.engine.faults.add({ path: REVOKE, status: 503, times: 10 });
    expect((await job.post()).exitCode).toBe(0);
    env.engine.faults.clear();
    const again = await job.post();
    expect(again.exitCode).toBe(0);
    expect(again.output).not.toContain('Already cleaned up');
    expect(again.output).toContain('Vault token revoked');
    expect(await env.vaultTokenAlive(job.vaultToken)).toBe(false);
  });
});

describe('post after main', () => {
  it('after main failed before any token: nothing to clean up, exit 0, no request', async () => {
    const from = env.engine.requests.length;
    const job = await actionJob(env, { inputs: baseInputs(env), idToken: false });
    expect(job.run.main.exitCode).toBe(1);
    expect(job.run.post?.exitCode).toBe(0);
    expect(job.run.post?.output).toContain('Nothing to clean up');
    expect(env.engine.requests.length).toBe(from);
  });

  it('after main failed past the lease (registry refused): main revoked, post has nothing left', async () => {
    const notARegistry = new URL(env.issuer.url).host;
    const job = await actionJob(env, { inputs: baseInputs(env, { registry: notARegistry }) });
    expect(job.run.main.exitCode).toBe(1);
    expect(job.run.main.output).toContain('Vault token revoked');
    expect(job.run.post?.exitCode).toBe(0);
    expect(job.run.post?.output).toContain('Already cleaned up');
    expect(await env.vaultTokenAlive(job.vaultToken)).toBe(false);
  });

  it("after main failed and main's own cleanup failed too: post revokes", async () => {
    const notARegistry = new URL(env.issuer.url).host;
    env.engine.faults.add({ path: REVOKE_SELF, status: 503, times: 2 });
    const job = await actionJob(env, {
      inputs: baseInputs(env, { registry: notARegistry, retries: '1' }),
    });
    expect(job.run.main.exitCode).toBe(1);
    expect(job.run.main.output).toContain('Could not revoke the Vault token');
    expect(job.run.post?.exitCode).toBe(0);
    expect(job.run.post?.output).toContain('Vault token revoked');
    expect(await env.vaultTokenAlive(job.vaultToken)).toBe(false);
  });

  it('post twice: the second does nothing and says so', async () => {
    const job = await actionJob(env, { inputs: baseInputs(env) });
    expect(job.run.main.exitCode).toBe(0);
    expect(job.run.post?.output).toContain('Vault token revoked');
    const from = env.engine.requests.length;
    const again = await job.post();
    expect(again.exitCode).toBe(0);
    expect(again.output).toContain('Already cleaned up');
    expect(env.engine.requests.length).toBe(from);
    expect(job.warnings()).toEqual([]);
  });
});
