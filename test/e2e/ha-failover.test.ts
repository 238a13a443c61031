// Vault in HA, the short version of `npm run reliability`: a 3-node OpenBao Raft cluster, the
// active node SIGKILLed while jobs of every entry point log in, the node restarted, a sealed node,
// rate-limit quotas, a post step during an election. Timings are reported, never asserted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HaEnv, startHaEnv } from '../harness/ha-env.js';
import { type Jobs, prepareJobs } from '../harness/ha-jobs.js';
import {
  type Alive,
  failover,
  postDuringElection,
  rateLimit,
  sealedNode,
  standbyAnswers,
  type Tally,
} from '../harness/ha-scenarios.js';
import { findLeaks } from '../harness/leak.js';

let env: HaEnv;
let jobs: Jobs;

beforeAll(async () => {
  env = await startHaEnv();
  jobs = await prepareJobs(env);
}, 120_000);
afterAll(async () => {
  if (!env) return;
  // The runs after postDuringElection's posts are in the jobs' record too (runPost appends).
  expect(findLeaks(jobs?.printed() ?? '', env.secrets(), { allowAddMask: true })).toEqual([]);
  await env.stop();
});

const nothingAlive = (a: Alive) =>
  expect({ leases: a.leases, tokens: a.tokens, registry: a.registryTokens }).toEqual({
    leases: 0,
    tokens: 0,
    registry: 0,
  });
const all = (t: Partial<Record<string, Tally>>) => Object.values(t) as Tally[];

it('a standby forwards logins and writes and serves reads: clients see no redirect', async () => {
  const rows = await standbyAnswers(env);
  console.log(rows.map((r) => `${r.request}: active ${r.active}, standby ${r.standby}`).join('\n'));
  const at = (prefix: string) => rows.find((r) => r.request.startsWith(prefix));
  expect(at('JWT login')?.standby).toBe('200');
  expect(at('KV v2 read')?.standby).toBe('200');
  expect(at('revoke-self')?.standby).toBe('204');
  expect(at('sys/health')?.standby).toBe('429');
});

describe('the active node SIGKILLed mid-job, then restarted', () => {
  it('every job through a standby succeeds; at the dead node, a clear message; nothing left', async () => {
    const r = await failover(
      env,
      jobs,
      { action: 3, orb: 2, cli: 2, helper: 2, provider: 2, direct: 1 },
      300,
    );
    console.log(JSON.stringify(r, null, 1));
    for (const t of all(r.jobs)) {
      expect(t.failures).toEqual([]);
      expect(t.cleanupFailures).toEqual([]);
    }
    // The standby answered 307 naming the dead node (or 500) until the election ended.
    expect(r.standbyTimeline.join('\n')).toMatch(/307 to http:\/\/127\.0\.0\.1:\d+|500/);
    for (const t of all(r.direct))
      for (const m of t.failures) expect(m).toMatch(/Cannot reach http:\/\/127\.0\.0\.1:\d+\/v1\//);
    // The provider leaves its lease for the kubelet's cache, by design: no other registry
    // credential is left. A login the dying node committed but never answered leaves a Vault
    // token nobody holds (no lease: nothing was leased with it) until its TTL.
    expect(r.left.registryTokens).toBe(2);
    for (const d of r.left.detail.filter((x) => !x.startsWith('auth/kubernetes/')))
      expect(d).toMatch(/^auth\/github\/login /);
    for (const t of all(r.afterRejoin)) expect(t.failures).toEqual([]);
    nothingAlive(r.afterSweep);
  }, 180_000);
});

it('a sealed node: each entry point stops with a message; the cluster serves the rest', async () => {
  const r = await sealedNode(env, jobs);
  console.log(JSON.stringify(r, null, 1));
  expect(r.sealedHealth).toBe(503);
  for (const t of all(r.atSealed)) {
    expect(t.ok).toBe(0);
    for (const m of t.failures) expect(m).toMatch(/sealed|503/i);
  }
  for (const t of [...all(r.viaFront), ...all(r.afterUnseal)]) expect(t.failures).toEqual([]);
  nothingAlive(r.afterSweep);
}, 120_000);

it('rate-limit quotas: 429 retried after at least 1 s, or stopped naming the quota', async () => {
  // One login per 5 s: four jobs starting together meet the quota however slowly they start.
  const r = await rateLimit(env, jobs, 2, 1, 5);
  console.log(JSON.stringify(r, null, 1));
  expect(r.answers[0]).toMatch(/^429 .*rate limit quota exceeded/);
  const tallies = [...all(r.plain), ...all(r.withHeaders)];
  expect(tallies.reduce((a, t) => a + t.retries, 0)).toBeGreaterThan(0);
  for (const t of tallies) for (const m of t.failures) expect(m).toMatch(/429|rate limit/);
  nothingAlive(r.afterSweep);
}, 120_000);

it('a post step during the election still revokes; without Vault it says what is left and until when', async () => {
  const r = await postDuringElection(env, jobs, 3);
  console.log(JSON.stringify(r, null, 1));
  expect(r.failedPosts).toEqual([]);
  expect(r.postsOk).toBe(3);
  expect(r.revoked).toBe(3);
  expect(r.registryTokensLeft).toBe(0);
  expect(r.unreachableExit).toBe(0);
  expect(r.unreachableWarning).toMatch(
    /Could not revoke the Vault token: Cannot reach .*; it expires on its own at \d{4}-\d\d-\d\dT[\d:.]+Z, with every lease it created/,
  );
  nothingAlive(r.afterSweep);
}, 120_000);
