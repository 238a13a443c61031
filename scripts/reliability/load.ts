// The load part of `npm run reliability`, against the 3-node cluster: many credential helper gets
// on one host, a fleet of kubelet provider runs, many concurrent Action jobs. Vault requests are
// counted twice: at the engine stand-in (what the clients sent) and in OpenBao's audit log (what
// the nodes served, forwarded requests included).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { HELPER_BIN, jwtHostConfig } from '../../test/harness/credential-helper.js';
import type { HaEnv } from '../../test/harness/ha-env.js';
import { type JobResult, type Jobs, SERVICE_ACCOUNTS } from '../../test/harness/ha-jobs.js';
import { type Alive, quantile, sweepAndCount } from '../../test/harness/ha-scenarios.js';
import { freePort, run } from '../../test/harness/procs.js';

export interface Requests {
  /** Requests the engine stand-in received (every client request goes through it). */
  clients: number;
  /** Responses in OpenBao's audit log (the stand-in's own questions to OpenBao included). */
  audited: number;
}

async function counted<T>(
  env: HaEnv,
  f: () => Promise<T>,
): Promise<{ value: T; req: Requests; ms: number }> {
  const [c0, a0] = [env.engine.requests.length, await env.auditedRequests()];
  const t0 = performance.now();
  const value = await f();
  const ms = performance.now() - t0;
  return {
    value,
    ms,
    req: { clients: env.engine.requests.length - c0, audited: (await env.auditedRequests()) - a0 },
  };
}

/** Runs `n` tasks with at most `width` at a time. */
async function pool<T>(n: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

export interface HelperLoad {
  gets: number;
  registries: number;
  ok: number;
  failures: string[];
  /** From the first get started to the last one answered. */
  lastMs: number;
  p50: number;
  p99: number;
  /** Leases the engine stand-in issued for them. */
  leases: number;
  req: Requests;
  /** The real registry's credential logs in (docker login). */
  works: boolean;
  /** After `erase` of each registry: does the registry still accept it? */
  revoked: boolean;
  afterSweep: Alive;
}

/**
 * `gets` concurrent `get`s on one host, spread over `registries` registries (the first is the
 * real registry; the others are distinct host:port keys the helper never needs to reach for a get).
 */
export async function helperLoad(
  env: HaEnv,
  gets: number,
  registries: number,
): Promise<HelperLoad> {
  const dir = join(env.tmpDir, 'load-helper');
  mkdirSync(join(dir, 'run'), { recursive: true, mode: 0o700 });
  const hosts = [env.registry.host];
  for (let i = 1; i < registries; i++) hosts.push(`127.0.0.1:${await freePort()}`);
  const config = jwtHostConfig(env, dir, hosts, 900);
  const hostEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    XDG_RUNTIME_DIR: join(dir, 'run'),
    VAULT_DOCKER_LOGIN_CONFIG: config,
  };
  const leases0 = env.engine.liveLeases().length;
  const { value, req, ms } = await counted(env, () =>
    Promise.all(
      Array.from({ length: gets }, async (_, i) => {
        const t0 = performance.now();
        const r = await run(process.execPath, [HELPER_BIN, 'get'], {
          input: hosts[i % hosts.length],
          env: hostEnv,
        });
        return { ...r, ms: performance.now() - t0 };
      }),
    ),
  );
  const leases = env.engine.liveLeases().length - leases0;
  const first = value.find((r) => r.code === 0 && r.stdout.includes(env.registry.host));
  const cred = first
    ? (JSON.parse(first.stdout) as { Username: string; Secret: string })
    : undefined;
  const works = cred ? await env.registry.canLogin(cred.Username, cred.Secret) : false;
  for (const h of hosts)
    await run(process.execPath, [HELPER_BIN, 'erase'], { input: h, env: hostEnv });
  const revoked = cred ? !(await env.registry.canLogin(cred.Username, cred.Secret)) : false;
  const ms2 = value.map((r) => r.ms);
  return {
    gets,
    registries,
    ok: value.filter((r) => r.code === 0).length,
    failures: [...new Set(value.filter((r) => r.code !== 0).map((r) => r.stdout.trim()))],
    lastMs: ms,
    p50: quantile(ms2, 0.5),
    p99: quantile(ms2, 0.99),
    leases,
    req,
    works,
    revoked,
    afterSweep: (await sweepAndCount(env)).afterSweep,
  };
}

export interface FleetLoad {
  runs: number;
  width: number;
  ok: number;
  failures: string[];
  wallMs: number;
  p50: number;
  p99: number;
  req: Requests;
  afterSweep: Alive;
}

function fleet(results: JobResult[], wallMs: number, req: Requests, width: number) {
  const ms = results.map((r) => r.ms);
  return {
    runs: results.length,
    width,
    ok: results.filter((r) => r.ok).length,
    failures: [...new Set(results.filter((r) => !r.ok).map((r) => r.message))],
    wallMs,
    p50: quantile(ms, 0.5),
    p99: quantile(ms, 0.99),
    req,
  };
}

/** `runs` provider runs over the service accounts, `width` at a time (nodes pulling at once). */
export async function providerLoad(
  env: HaEnv,
  jobs: Jobs,
  runs: number,
  width: number,
): Promise<FleetLoad> {
  const { value, req, ms } = await counted(env, () => pool(runs, width, (i) => jobs.provider(i)));
  return { ...fleet(value, ms, req, width), afterSweep: (await sweepAndCount(env)).afterSweep };
}

/** `n` concurrent Action jobs (main, then post). */
export async function actionLoad(
  env: HaEnv,
  jobs: Jobs,
  n: number,
): Promise<FleetLoad & { postP50: number; postP99: number }> {
  const { value, req, ms } = await counted(env, () =>
    Promise.all(Array.from({ length: n }, () => jobs.action())),
  );
  const post = value.map((r) => r.cleanupMs ?? Number.NaN);
  return {
    ...fleet(value, ms, req, n),
    postP50: quantile(post, 0.5),
    postP99: quantile(post, 0.99),
    afterSweep: (await sweepAndCount(env)).afterSweep,
  };
}

export { SERVICE_ACCOUNTS };
