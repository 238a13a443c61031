// The HA scenarios against a 3-node cluster (HaEnv), each returning what it saw: what a standby
// answers, the active node SIGKILLed mid-job and restarted, a sealed node, rate-limit quotas, a
// post step during an election. The HA test asserts on them; `npm run reliability` reports them.
import type { HaEnv } from './ha-env.js';
import type { JobKind, JobOptions, JobResult, Jobs } from './ha-jobs.js';

export interface Tally {
  jobs: number;
  ok: number;
  /** Distinct messages of the jobs that failed. */
  failures: string[];
  p50: number;
  p99: number;
  max: number;
  retries: number;
  electionWaits: number;
  cleanups: number;
  cleanupsOk: number;
  cleanupFailures: string[];
}

export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
}

export function tally(results: JobResult[]): Partial<Record<JobKind, Tally>> {
  const out: Partial<Record<JobKind, Tally>> = {};
  for (const kind of ['action', 'orb', 'cli', 'helper', 'provider'] as const) {
    const rs = results.filter((r) => r.kind === kind);
    if (rs.length === 0) continue;
    const ms = rs.map((r) => r.ms);
    const cleaned = rs.filter((r) => r.cleanupOk !== undefined);
    out[kind] = {
      jobs: rs.length,
      ok: rs.filter((r) => r.ok).length,
      failures: [...new Set(rs.filter((r) => !r.ok).map((r) => r.message))],
      p50: quantile(ms, 0.5),
      p99: quantile(ms, 0.99),
      max: Math.max(...ms),
      retries: rs.reduce((a, r) => a + r.retries, 0),
      electionWaits: rs.reduce((a, r) => a + r.electionWaits, 0),
      cleanups: cleaned.length,
      cleanupsOk: cleaned.filter((r) => r.cleanupOk).length,
      cleanupFailures: [
        ...new Set(cleaned.filter((r) => !r.cleanupOk).map((r) => r.cleanupMessage ?? '')),
      ],
    };
  }
  return out;
}

export interface Alive {
  leases: number;
  tokens: number;
  /** Live credentials at the Docker Hub stand-in (each one a secret the registry accepts). */
  registryTokens: number;
  detail: string[];
}

export async function aliveNow(env: HaEnv): Promise<Alive> {
  const [leases, tokens] = await Promise.all([env.leasesAlive(), env.describeTokens()]);
  return {
    leases: leases.length,
    tokens: tokens.length,
    registryTokens: env.hub.liveTokens().length,
    detail: tokens,
  };
}

/** What the entry points' own cleanups left, then the root sweep, then what is left after it. */
export async function sweepAndCount(env: HaEnv): Promise<{ left: Alive; afterSweep: Alive }> {
  const left = await aliveNow(env);
  await env.sweep();
  return { left, afterSweep: await aliveNow(env) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The front (behind the engine stand-in) must be a standby when the active node is killed. */
export async function frontOnStandby(env: HaEnv): Promise<void> {
  if ((await env.cluster.health(env.front())) === 429) return;
  const [standby] = await env.cluster.standbys();
  if (!standby) throw new Error('The cluster has no standby');
  env.setFront(standby);
}

export interface AnswerRow {
  request: string;
  active: string;
  standby: string;
}

async function answer(addr: string, method: string, path: string, token?: string, body?: unknown) {
  try {
    const r = await fetch(`${addr}/v1/${path}`, {
      method,
      headers: { 'X-Vault-Request': 'true', ...(token && { 'X-Vault-Token': token }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
    const text = await r.text();
    const loc = r.headers.get('location');
    let json: { errors?: string[]; auth?: { client_token?: string } } = {};
    try {
      json = JSON.parse(text);
    } catch {
      // an empty body (204, 307)
    }
    return { status: r.status, loc, json };
  } catch (err) {
    return { status: 0, loc: null, json: { errors: [String((err as Error).cause ?? err)] } };
  }
}

const shown = (a: Awaited<ReturnType<typeof answer>>) =>
  a.status === 0
    ? 'no answer'
    : `${a.status}${a.loc ? ` to ${a.loc.replace(/\/v1\/.*/, '')}` : ''}${a.json.errors ? ` ${JSON.stringify(a.json.errors[0]).slice(0, 80)}` : ''}`;

/** Each request a job makes, asked of the active node and of a standby (the front). */
export async function standbyAnswers(env: HaEnv): Promise<AnswerRow[]> {
  await frontOnStandby(env);
  const fx = env.fixtures;
  const active = await env.cluster.active();
  const rows: AnswerRow[] = [];
  const at = async (request: string, ask: (addr: string, token: string) => Promise<string>) => {
    const row = { request, active: '', standby: '' };
    for (const [where, node] of [
      ['active', active],
      ['standby', env.front()],
    ] as const) {
      const login = await answer(node.addr, 'POST', `auth/${fx.githubMount}/login`, undefined, {
        role: fx.github.role,
        jwt: env.issuer.githubToken(),
      });
      row[where] = await ask(node.addr, login.json.auth?.client_token ?? '');
      await answer(node.addr, 'POST', 'auth/token/revoke-self', login.json.auth?.client_token);
    }
    rows.push(row);
  };
  await at('JWT login (POST auth/<mount>/login)', async (addr) =>
    shown(
      await answer(addr, 'POST', `auth/${fx.githubMount}/login`, undefined, {
        role: fx.github.role,
        jwt: env.issuer.githubToken(),
      }).then(async (a) => {
        await answer(addr, 'POST', 'auth/token/revoke-self', a.json.auth?.client_token);
        return a;
      }),
    ),
  );
  await at('KV v2 read (GET secret/data/...)', async (addr, t) =>
    shown(await answer(addr, 'GET', `${fx.kvMount}/data/${fx.kvPath}`, t)),
  );
  await at('token lookup-self (GET)', async (addr, t) =>
    shown(await answer(addr, 'GET', 'auth/token/lookup-self', t)),
  );
  await at('sys/capabilities-self (POST; the engine stand-in asks it)', async (addr, t) =>
    shown(await answer(addr, 'POST', 'sys/capabilities-self', t, { paths: ['x'] })),
  );
  await at('sys/leases/revoke without the policy (PUT)', async (addr, t) =>
    shown(await answer(addr, 'PUT', 'sys/leases/revoke', t, { lease_id: 'auth/x/y' })),
  );
  await at('revoke-self (POST)', async (addr, t) =>
    shown(await answer(addr, 'POST', 'auth/token/revoke-self', t)),
  );
  await at('sys/health (GET)', async (addr) => shown(await answer(addr, 'GET', 'sys/health')));
  return rows;
}

export interface FailoverResult {
  jobs: Partial<Record<JobKind, Tally>>;
  /** The same jobs pointed at the killed node's own address (KV, no engine stand-in). */
  direct: Partial<Record<JobKind, Tally>>;
  killedAtMs: number;
  /** From the kill until a node answered sys/health 200. */
  electionMs: number;
  /** What the front standby answered logins with, in order, with when (ms after the kill). */
  standbyTimeline: string[];
  /** Jobs whose login part ended before the kill (they could not be affected). */
  finishedBeforeKill: number;
  wallMs: number;
  left: Alive;
  /** From the restart until autopilot counted the node a healthy voter again. */
  rejoinMs: number;
  /** After the rejoin: one job of each kind through the front, and at the restarted node. */
  afterRejoin: Partial<Record<JobKind, Tally>>;
  afterSweep: Alive;
}

export interface FailoverMix {
  action: number;
  orb: number;
  cli: number;
  helper: number;
  provider: number;
  /** Action mains and CLI logins pointed at the active node's own address (each). */
  direct: number;
}

/** A sampler of the front's answers to logins, recording each change. */
function sampleFront(env: HaEnv, since: () => number) {
  const seen: string[] = [];
  const tokens: string[] = [];
  let stop = false;
  let last = '';
  const done = (async () => {
    while (!stop) {
      const a = await answer(
        env.front().addr,
        'POST',
        `auth/${env.fixtures.githubMount}/login`,
        undefined,
        // A role of its own: a token it leaves is told apart from the jobs'.
        { role: env.fixtures.github.roleCanRevoke, jwt: env.issuer.githubToken() },
      );
      if (a.json.auth?.client_token) tokens.push(a.json.auth.client_token);
      const s = shown(a);
      if (s !== last) {
        const t = since();
        seen.push(`${t >= 0 ? `${t} ms` : 'before the kill'}: ${s}`);
      }
      last = s;
      await sleep(50);
    }
  })();
  return {
    /** Stops, and revokes the sampler's own tokens once a node is active again. */
    async stop() {
      stop = true;
      await done;
      await env.cluster.active(60_000);
      for (const t of tokens) await answer(env.front().addr, 'POST', 'auth/token/revoke-self', t);
      return seen;
    },
  };
}

export async function failover(
  env: HaEnv,
  jobs: Jobs,
  mix: FailoverMix,
  killAfterMs: number,
): Promise<FailoverResult> {
  await frontOnStandby(env);
  const victim = await env.cluster.active();
  const t0 = Date.now();
  let killedAt = Number.POSITIVE_INFINITY;
  const since = () => Date.now() - killedAt;
  const sampler = sampleFront(env, since);
  const timed = (p: Promise<JobResult>) => p.then((r) => ({ ...r, endedAt: Date.now() }));
  const running = [
    ...Array.from({ length: mix.action }, () => timed(jobs.action())),
    ...Array.from({ length: mix.orb }, () => timed(jobs.orb())),
    ...Array.from({ length: mix.cli }, () => timed(jobs.cli())),
    ...Array.from({ length: mix.helper }, () => timed(jobs.helper())),
    ...Array.from({ length: mix.provider }, (_, i) => timed(jobs.provider(i))),
  ];
  const direct: JobOptions = { url: victim.addr, source: 'kv', timeout: 20 };
  const runningDirect = [
    ...Array.from({ length: mix.direct }, () => jobs.action(direct)),
    ...Array.from({ length: mix.direct }, () => jobs.cli(direct)),
  ];
  await sleep(killAfterMs);
  env.cluster.kill(victim);
  killedAt = Date.now();
  await env.cluster.active(60_000);
  const electionMs = since();
  const results = await Promise.all(running);
  const directResults = await Promise.all(runningDirect);
  const wallMs = Date.now() - t0;
  const standbyTimeline = await sampler.stop();
  const left = await aliveNow(env);

  const restartAt = Date.now();
  await env.cluster.restart(victim);
  await env.cluster.voters();
  const rejoinMs = Date.now() - restartAt;
  const again = await Promise.all([
    jobs.action(),
    jobs.orb(),
    jobs.cli(),
    jobs.helper(),
    jobs.provider(1),
    jobs.action({ url: victim.addr, source: 'kv' }),
    jobs.cli({ url: victim.addr, source: 'kv' }),
  ]);
  await env.sweep();
  return {
    jobs: tally(results),
    direct: tally(directResults),
    killedAtMs: killedAt - t0,
    electionMs,
    standbyTimeline,
    finishedBeforeKill: results.filter((r) => r.endedAt < killedAt).length,
    wallMs,
    left,
    rejoinMs,
    afterRejoin: tally(again),
    afterSweep: await aliveNow(env),
  };
}

export interface SealedResult {
  node: string;
  /** Jobs pointed at the sealed node's own address. */
  atSealed: Partial<Record<JobKind, Tally>>;
  /** Jobs through the front meanwhile (the cluster still has a quorum). */
  viaFront: Partial<Record<JobKind, Tally>>;
  /** After unsealing: jobs at that node's address. */
  afterUnseal: Partial<Record<JobKind, Tally>>;
  sealedHealth: number;
  afterSweep: Alive;
}

export async function sealedNode(env: HaEnv, jobs: Jobs): Promise<SealedResult> {
  const standbys = await env.cluster.standbys();
  const node = standbys.find((n) => n !== env.front()) ?? standbys[0];
  if (!node) throw new Error('no standby to seal');
  await env.cluster.restartSealed(node);
  let atSealed: JobResult[];
  let viaFront: JobResult[];
  let sealedHealth: number;
  try {
    sealedHealth = await env.cluster.health(node);
    const at: JobOptions = { url: node.addr, source: 'kv', timeout: 10 };
    [atSealed, viaFront] = await Promise.all([
      Promise.all([jobs.action(at), jobs.cli(at), jobs.helper(at), jobs.provider(2, at)]),
      Promise.all([jobs.action(), jobs.cli(), jobs.helper(), jobs.provider(3)]),
    ]);
  } finally {
    await env.cluster.unseal(node);
  }
  const afterUnseal = await Promise.all([
    jobs.action({ url: node.addr, source: 'kv' }),
    jobs.cli({ url: node.addr, source: 'kv' }),
  ]);
  await env.sweep();
  return {
    node: node.id,
    atSealed: tally(atSealed),
    viaFront: tally(viaFront),
    afterUnseal: tally(afterUnseal),
    sealedHealth,
    afterSweep: await aliveNow(env),
  };
}

export interface QuotaResult {
  rate: number;
  intervalS: number;
  /** A 429's headers as OpenBao sent them, without and with enable_rate_limit_response_headers. */
  answers: string[];
  /** Concurrent jobs logging in under the quota, without and then with the headers. */
  plain: Partial<Record<JobKind, Tally>>;
  withHeaders: Partial<Record<JobKind, Tally>>;
  afterSweep: Alive;
}

export async function rateLimit(
  env: HaEnv,
  jobs: Jobs,
  perKind: number,
  rate = 2,
  intervalS = 1,
): Promise<QuotaResult> {
  const fx = env.fixtures;
  const quota = 'sys/quotas/rate-limit/ci-logins';
  await env.cluster.api('POST', quota, {
    path: `auth/${fx.githubMount}/login`,
    rate,
    interval: `${intervalS}s`,
  });
  // Each phase starts in a fresh interval.
  const nextInterval = () => sleep(intervalS * 1000 + 100);
  const answers: string[] = [];
  const probe = async () => {
    for (let i = 0; i < rate + 2; i++) {
      const r = await fetch(`${env.front().addr}/v1/auth/${fx.githubMount}/login`, {
        method: 'POST',
        body: JSON.stringify({ role: fx.github.role, jwt: env.issuer.githubToken() }),
      });
      const body = (await r.json()) as { errors?: string[]; auth?: { client_token?: string } };
      await answer(env.front().addr, 'POST', 'auth/token/revoke-self', body.auth?.client_token);
      if (r.status === 429) {
        const h = ['retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']
          .map((k) => `${k}: ${r.headers.get(k) ?? '(none)'}`)
          .join(', ');
        return `429 ${JSON.stringify(body.errors?.[0])}; ${h}`;
      }
    }
    return 'no 429';
  };
  const burst = () =>
    Promise.all([
      ...Array.from({ length: perKind }, () => jobs.action()),
      ...Array.from({ length: perKind }, () => jobs.cli()),
    ]);
  try {
    await nextInterval();
    answers.push(await probe());
    await nextInterval();
    const plain = tally(await burst());
    await env.cluster.api('POST', 'sys/quotas/config', {
      enable_rate_limit_response_headers: true,
    });
    await nextInterval();
    answers.push(await probe());
    await nextInterval();
    const withHeaders = tally(await burst());
    return {
      rate,
      intervalS,
      answers,
      plain,
      withHeaders,
      afterSweep: await sweepAndCount(env).then((s) => s.afterSweep),
    };
  } finally {
    await env.cluster.api('DELETE', quota).catch(() => undefined);
    await env.cluster
      .api('POST', 'sys/quotas/config', { enable_rate_limit_response_headers: false })
      .catch(() => undefined);
  }
}

export interface PostResult {
  /** Posts run right after the active node was killed (Vault through the front standby). */
  posts: number;
  postsOk: number;
  /** What each post that did not exit 0 printed, and how it ended. */
  failedPosts: string[];
  /** Posts whose output says the Vault token was revoked. */
  revoked: number;
  postMs: { p50: number; max: number };
  electionWaits: number;
  /** Registry credentials of those jobs still alive after their posts. */
  registryTokensLeft: number;
  /** A post whose Vault stays unreachable past its budget: its warning. */
  unreachableWarning: string;
  unreachableExit: number;
  afterSweep: Alive;
}

export async function postDuringElection(env: HaEnv, jobs: Jobs, n: number): Promise<PostResult> {
  await frontOnStandby(env);
  const mains = await Promise.all(Array.from({ length: n }, () => jobs.action({ cleanup: false })));
  if (mains.some((m) => !m.ok))
    throw new Error(`a main failed: ${mains.find((m) => !m.ok)?.message}`);
  // One more main at the active node's own address, whose post will find no Vault there.
  const victim = await env.cluster.active();
  const lonely = await jobs.action({ url: victim.addr, source: 'kv', cleanup: false, timeout: 5 });
  env.cluster.kill(victim);
  let posts: Awaited<ReturnType<typeof lonely.run.runPost>>[];
  try {
    posts = await Promise.all([...mains.map((m) => m.run.runPost()), lonely.run.runPost()]);
    await env.cluster.active(60_000);
  } finally {
    await env.cluster.restart(victim);
  }
  const ours = posts.slice(0, n);
  const last = posts[n];
  const text = (last?.output ?? '')
    .split('\n')
    .filter((l) => l.startsWith('::warning::'))
    .join('\n');
  const registryTokensLeft = env.hub.liveTokens().length;
  await env.sweep();
  return {
    posts: ours.length,
    postsOk: ours.filter((p) => p.exitCode === 0).length,
    failedPosts: ours
      .filter((p) => p.exitCode !== 0)
      .map((p) => `exit ${p.exitCode} after ${p.ms} ms:\n${p.output.slice(-3000)}`),
    revoked: ours.filter((p) => p.output.includes('Vault token revoked')).length,
    postMs: {
      p50: quantile(
        ours.map((p) => p.ms),
        0.5,
      ),
      max: Math.max(...ours.map((p) => p.ms)),
    },
    electionWaits: ours.reduce(
      (a, p) => a + (p.output.match(/no active node \(a leader election\)/g) ?? []).length,
      0,
    ),
    registryTokensLeft,
    unreachableWarning: text,
    unreachableExit: last?.exitCode ?? -1,
    afterSweep: await aliveNow(env),
  };
}
