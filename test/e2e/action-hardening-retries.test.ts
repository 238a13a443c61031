// Faults injected at each network step of the Action's main (identity, JWT login, lease write):
// what is retried, how often, how long it waits, what is final, and that nothing is left behind.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEnv } from '../harness/index.js';
import type { FaultRule, TestEnv } from '../harness/types.js';
import { actionJob, baseInputs } from './action-hardening-job.js';
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
  env.issuer.faults.clear();
  expectNothingAlive(env);
});

const loginPath = () => `/v1/auth/${env.fixtures.githubMount}/login`;
const leasePath = () => `/v1/${env.fixtures.engineMount}/token/${env.fixtures.account}/read`;
const idPath = () => new URL(env.issuer.github.requestUrl).pathname;

/** Requests to `path` since index `from` of a request log. */
function hits(log: TestEnv['engine']['requests'], from: number, path: string) {
  return log.slice(from).filter((q) => q.path === path);
}

type Step = 'login' | 'lease';
const stepPath = (s: Step) => (s === 'login' ? loginPath() : leasePath());
const retryLine = (s: Step) =>
  s === 'login'
    ? /Retrying POST auth\/github\/login in (\d+) ms \(retry 1 of 2\)/
    : /Retrying POST dockerhub\/token\/\S+\/read in (\d+) ms \(retry 1 of 2\)/;

const RECOVERABLE: [string, Omit<FaultRule, 'path'>][] = [
  ['412', { status: 412 }],
  ['429 + Retry-After: 2', { status: 429, retryAfter: 2 }],
  ['500', { status: 500 }],
  ['502', { status: 502 }],
  ['503', { status: 503 }],
  ['dropped connection', { drop: true }],
];

describe('main retries, then recovers', () => {
  for (const step of ['login', 'lease'] as const) {
    it.each(RECOVERABLE)(`${step}: %s`, async (_name, fault) => {
      env.engine.faults.add({ path: stepPath(step), ...fault });
      const from = env.engine.requests.length;
      const job = await actionJob(env, { inputs: baseInputs(env) });
      expect(job.run.main.exitCode, job.run.main.output).toBe(0);
      expect(job.run.post?.exitCode).toBe(0);
      const tries = hits(env.engine.requests, from, stepPath(step));
      expect(tries.map((q) => q.status)).toEqual([fault.drop ? 0 : fault.status, 200]);
      const wait = Number(retryLine(step).exec(job.run.main.output)?.[1]);
      if (fault.retryAfter) {
        // Retry-After is honoured: both the logged wait and the real gap are at least 2 s.
        expect(wait).toBeGreaterThanOrEqual(2000);
        expect((tries[1]?.at ?? 0) - (tries[0]?.at ?? 0)).toBeGreaterThanOrEqual(1950);
      } else {
        // First backoff: 500 ms jittered to 50-100 %.
        expect(wait).toBeGreaterThanOrEqual(250);
        expect(wait).toBeLessThanOrEqual(500);
      }
      expect(job.warnings()).toEqual([]);
      expect(env.engine.faults.pending()).toBe(0);
    });

    it(`${step}: a slow answer (1.5 s) within the timeout is waited for, not retried`, async () => {
      env.engine.faults.add({ path: stepPath(step), delayMs: 1500 });
      const from = env.engine.requests.length;
      const job = await actionJob(env, { inputs: baseInputs(env, { timeout: '5' }) });
      expect(job.run.main.exitCode, job.run.main.output).toBe(0);
      expect(job.run.main.ms).toBeGreaterThanOrEqual(1500);
      expect(hits(env.engine.requests, from, stepPath(step)).map((q) => q.status)).toEqual([200]);
      expect(job.run.main.output).not.toContain('Retrying');
    });
  }

  it.each<[string, Omit<FaultRule, 'path'>, number]>([
    ['500', { status: 500 }, 500],
    ['503', { status: 503 }, 503],
    ['429 + Retry-After: 1', { status: 429, retryAfter: 1 }, 429],
    ['dropped connection', { drop: true }, 0],
  ])('identity token request: %s', async (_name, fault, status) => {
    env.issuer.faults.add({ path: idPath(), ...fault });
    const from = env.issuer.requests.length;
    const job = await actionJob(env, { inputs: baseInputs(env) });
    expect(job.run.main.exitCode, job.run.main.output).toBe(0);
    const tries = hits(env.issuer.requests, from, idPath());
    expect(tries.map((q) => q.status)).toEqual([status, 200]);
    const m = /Retrying the GitHub OIDC token request in (\d+) ms \(retry 1 of 2\)/.exec(
      job.run.main.output,
    );
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(fault.retryAfter ? 1000 : 250);
  });
});

describe('final answers are not retried', () => {
  it.each<[Step, number, RegExp]>([
    ['login', 400, /Vault login failed \(HTTP 400\) at auth\/github/],
    ['login', 403, /refused auth\/github\/login \(403 permission denied\)/],
    ['login', 404, /no JWT auth method at auth\/github/],
    ['login', 501, /Vault login failed \(HTTP 501\)/],
    ['lease', 400, /The secrets engine refused dockerhub\/token\/\S+\/read/],
    ['lease', 404, /Nothing at dockerhub\/token\/\S+\/read accepts a write \(HTTP 404\)/],
    ['lease', 405, /accepts a write \(HTTP 405\)/],
    ['lease', 501, /The secrets engine refused dockerhub\/token\/\S+\/read/],
  ])(
    '%s answering %i: one request, a clear failure, cleanup still passes',
    async (step, status, msg) => {
      env.engine.faults.add({ path: stepPath(step), status, times: 5 });
      const from = env.engine.requests.length;
      const job = await actionJob(env, { inputs: baseInputs(env) });
      expect(job.run.main.exitCode).toBe(1);
      expect(job.error).toMatch(msg);
      expect(hits(env.engine.requests, from, stepPath(step))).toHaveLength(1);
      expect(job.run.main.output).not.toContain('Retrying');
      expect(job.run.post?.exitCode).toBe(0);
      if (step === 'lease') expect(await env.vaultTokenAlive(job.vaultToken)).toBe(false);
    },
  );

  it('identity endpoint answering 403: one request, names the OIDC endpoint', async () => {
    env.issuer.faults.add({ path: idPath(), status: 403, times: 5 });
    const from = env.issuer.requests.length;
    const job = await actionJob(env, { inputs: baseInputs(env) });
    expect(job.run.main.exitCode).toBe(1);
    expect(job.error).toContain("GitHub's OIDC endpoint answered 403");
    expect(hits(env.issuer.requests, from, idPath())).toHaveLength(1);
  });
});

describe('retries are bounded', () => {
  it.each([0, 1, 3])('by retries=%i: exactly that many more attempts on a 503', async (n) => {
    env.engine.faults.add({ path: leasePath(), status: 503, times: 10 });
    const from = env.engine.requests.length;
    const job = await actionJob(env, { inputs: baseInputs(env, { retries: String(n) }) });
    expect(job.run.main.exitCode).toBe(1);
    expect(hits(env.engine.requests, from, leasePath())).toHaveLength(n + 1);
    expect(job.error).toMatch(
      /^Vault kept answering 503 on dockerhub\/token\/\S+: Vault is sealed/,
    );
    expect(job.error).toContain(`after at most ${n} retries within 20 s`);
    expect(job.error).toContain('Raise the retries input or the timeout input');
    expect(await env.vaultTokenAlive(job.vaultToken)).toBe(false);
  });

  it('by timeout: a Retry-After beyond the deadline is not waited for', async () => {
    env.engine.faults.add({ path: loginPath(), status: 429, retryAfter: 30, times: 5 });
    const from = env.engine.requests.length;
    const job = await actionJob(env, { inputs: baseInputs(env, { timeout: '3', retries: '5' }) });
    expect(job.run.main.exitCode).toBe(1);
    // No second attempt: waiting 30 s would have brought one (the time is the benchmark's).
    expect(hits(env.engine.requests, from, loginPath())).toHaveLength(1);
    expect(job.error).toMatch(/^Vault kept answering 429 on auth\/github\/login: .*rate limit/);
  });

  it('by timeout: slow 502s stop at the deadline whatever retries says', async () => {
    env.engine.faults.add({ path: leasePath(), status: 502, delayMs: 1200, times: 20 });
    const from = env.engine.requests.length;
    const job = await actionJob(env, { inputs: baseInputs(env, { timeout: '4', retries: '10' }) });
    expect(job.run.main.exitCode).toBe(1);
    // 1.2 s each within 4 s: at most 3 attempts of the 11 retries allows.
    const n = hits(env.engine.requests, from, leasePath()).length;
    expect(n).toBeGreaterThanOrEqual(2);
    expect(n).toBeLessThan(4);
    expect(job.run.post?.exitCode).toBe(0);
    expect(await env.vaultTokenAlive(job.vaultToken)).toBe(false);
  });

  it.each<[string, () => void, RegExp]>([
    [
      'identity endpoint',
      () => env.issuer.faults.add({ path: idPath(), delayMs: 30_000, times: 5 }),
      /No answer from http:\/\/127\.0\.0\.1:\d+\/_apis\/idtoken within (3|2\.\d) s/,
    ],
    [
      'lease write',
      () => env.engine.faults.add({ path: leasePath(), delayMs: 30_000, times: 5 }),
      /No answer from \S+\/v1\/dockerhub\/token\/\S+\/read within \d(\.\d)? s/,
    ],
  ])('a %s that never answers fails within the timeout, with a message', async (_n, add, msg) => {
    add();
    const job = await actionJob(env, { inputs: baseInputs(env, { timeout: '3' }) });
    expect(job.run.main.exitCode).toBe(1);
    expect(job.error).toMatch(msg);
    expect(job.run.post?.exitCode).toBe(0);
    // The token that got no lease is revoked, so the write still queued cannot create one later.
    if (job.vaultToken) expect(await env.vaultTokenAlive(job.vaultToken)).toBe(false);
  });
});

describe('a static secret read (generic source) under faults', () => {
  it('retries 502 then 412 on the KV read and logs in', async () => {
    const kv = `/v1/${env.fixtures.kvMount}/data/${env.fixtures.kvPath}`;
    env.engine.faults.add({ path: kv, status: 502 });
    env.engine.faults.add({ path: kv, status: 412 });
    const from = env.engine.requests.length;
    const job = await actionJob(env, {
      inputs: baseInputs(env, { account: '', 'secret-path': kv.slice(4) }),
    });
    expect(job.run.main.exitCode, job.run.main.output).toBe(0);
    expect(job.run.outputs.username).toBe(env.fixtures.kvUsername);
    expect(hits(env.engine.requests, from, kv).map((q) => `${q.method} ${q.status}`)).toEqual([
      'GET 502',
      'GET 412',
      'GET 200',
    ]);
    expect(job.run.main.output).toMatch(/Retrying GET \S+ in \d+ ms \(retry 2 of 2\)/);
  });
});

describe('a lost answer to the lease-creating write', () => {
  it('is retried; post leaves neither lease nor Docker Hub token (revoke-self takes the orphan)', async () => {
    env.engine.faults.add({ path: leasePath(), dropAfterForward: true });
    const from = env.engine.requests.length;
    const job = await actionJob(env, { inputs: baseInputs(env), post: false });
    expect(job.run.main.exitCode, job.run.main.output).toBe(0);
    expect(hits(env.engine.requests, from, leasePath())).toHaveLength(2);
    const leaseId = job.run.outputs['lease-id'] ?? '';
    const live = env.engine.liveLeases();
    expect(live).toHaveLength(2);
    expect(live).toContain(leaseId);
    expect(env.hub.liveTokens()).toHaveLength(2);

    const post = await job.post();
    expect(post.exitCode, post.output).toBe(0);
    expect(post.output).toContain('Vault token revoked (with every lease it created).');
    for (const id of live) expect(env.engine.liveLeases()).not.toContain(id);
    expect(env.hub.liveTokens()).toEqual([]);
    expect(await env.vaultTokenAlive(job.vaultToken)).toBe(false);
  });
});
