// The benchmark: how close the login step is to the floor the work itself costs.
// Brings the embedded services up, runs the Action's main and post and the orb's login and logout
// N times as their runners do, measures the floor in the same run, and writes JSON and markdown.
// Phases are read off the stand-ins' request logs (arrival times), so nothing is instrumented.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { runJob } from '../test/harness/circleci-runner.js';
import { runAction } from '../test/harness/github-runner.js';
import { startEnv } from '../test/harness/index.js';
import type { SeenRequest, TestEnv } from '../test/harness/types.js';
import { benchCredentialHelper } from './bench-credential-helper.js';
import { benchKubelet } from './bench-kubelet.js';
import { benchSwarmDriver } from './bench-swarm.js';

const RUNS = Number(process.env.BENCH_RUNS ?? process.argv[2] ?? 30);
/** Service convergences on a real Swarm: seconds each, so fewer. */
const SWARM_RUNS = Number(process.env.BENCH_SWARM_RUNS ?? 5);
const WARMUP = 2;
const OUT = 'bench-results';

type Series = Record<string, number[]>;
const add = (s: Series, k: string, v: number) => {
  s[k] ??= [];
  s[k].push(v);
};

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i] as number;
}
const median = (xs: number[]) => quantile(xs, 0.5);
const p95 = (xs: number[]) => quantile(xs, 0.95);

/** Requests logged in [from, to], oldest first. */
function between(log: SeenRequest[], from: number, to: number): SeenRequest[] {
  return log.filter((r) => r.at >= from && r.at <= to).sort((a, b) => a.at - b.at);
}
const first = (log: SeenRequest[], re: RegExp) => log.find((r) => re.test(r.path));
/** The lease-creating write: `<engine mount>/token/...` (not `auth/token/revoke-self`). */
const leasePath = (env: TestEnv) => new RegExp(`^/v1/${env.fixtures.engineMount}/token/`);

function run(
  cmd: string,
  args: string[],
  input?: string,
  env?: NodeJS.ProcessEnv,
): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: env ?? process.env,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${cmd} exited ${code}`)),
    );
    child.stdin.end(input ?? '');
  });
}

/** The fields of Vault answers the floor reads. */
interface VaultAnswer {
  auth?: { client_token: string };
  data?: { username: string; token: string };
}

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<VaultAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Vault-Request': 'true', ...headers },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.status === 204 ? {} : ((await res.json()) as VaultAnswer);
}

async function benchAction(env: TestEnv, main: Series, postS: Series, counts: Series, n: number) {
  const fx = env.fixtures;
  const inputs = {
    url: env.vaultAddr,
    'auth-mount': fx.githubMount,
    role: fx.github.role,
    audience: fx.audience,
    account: fx.account,
    registry: env.registry.host,
  };
  for (let i = 0; i < n + WARMUP; i++) {
    const t0 = Date.now();
    const r = await runAction({ env, inputs });
    if (r.main.exitCode !== 0 || r.post?.exitCode !== 0) {
      throw new Error(`action run failed:\n${r.main.output}\n${r.post?.output ?? ''}`);
    }
    if (i < WARMUP) continue;
    const tMainEnd = t0 + r.main.ms;
    const idReq = first(between(env.issuer.requests, t0, tMainEnd), /./);
    const vaultMain = between(env.engine.requests, t0, tMainEnd);
    const login = first(vaultMain, /\/login$/);
    const lease = first(vaultMain, leasePath(env));
    add(main, 'total', r.main.ms);
    if (idReq && login && lease) {
      add(main, 'process start + bundle load', idReq.at - t0);
      add(main, 'identity token', login.at - idReq.at);
      add(main, 'Vault login', lease.at - login.at);
      const leased = lease.doneAt ?? lease.at;
      add(main, 'lease', leased - lease.at);
      add(main, 'docker login + outputs + exit', tMainEnd - leased);
    }
    add(counts, 'main', vaultMain.length);

    const tPost = tMainEnd;
    const tPostEnd = Date.now();
    const vaultPost = between(env.engine.requests, tPost, tPostEnd);
    const firstRevoke = vaultPost[0];
    add(postS, 'total', r.post?.ms ?? Number.NaN);
    if (firstRevoke) {
      add(postS, 'process start + docker logout', firstRevoke.at - (tPostEnd - (r.post?.ms ?? 0)));
      add(postS, 'revokes', tPostEnd - firstRevoke.at);
    }
    add(counts, 'post', vaultPost.length);
  }
}

async function benchOrb(env: TestEnv, login: Series, logout: Series, counts: Series, n: number) {
  const fx = env.fixtures;
  for (let i = 0; i < n + WARMUP; i++) {
    const dir = mkdtempSync(join(env.tmpDir, 'bench-orb-'));
    const t0 = Date.now();
    const r = await runJob({
      dir,
      steps: [
        {
          orb: 'login',
          parameters: {
            url: env.vaultAddr,
            auth_mount: fx.circleciMount,
            role: fx.circleci.role,
            account: fx.account,
            registry: env.registry.host,
          },
        },
        { orb: 'logout' },
      ],
      env: { CIRCLE_OIDC_TOKEN_V2: env.issuer.circleciToken({ v2: true }) },
    });
    if (!r.success) throw new Error(`orb job failed:\n${r.output}`);
    if (i < WARMUP) continue;
    const [l, o] = r.steps;
    add(login, 'total', l?.durationMs ?? Number.NaN);
    add(logout, 'total', o?.durationMs ?? Number.NaN);
    const reqs = between(env.engine.requests, t0, Date.now());
    const loginReq = first(reqs, /\/login$/);
    const leaseReq = first(reqs, leasePath(env));
    if (loginReq && leaseReq) {
      add(login, 'start + checks + identity', loginReq.at - t0);
      add(login, 'Vault login', leaseReq.at - loginReq.at);
      const leased = leaseReq.doneAt ?? leaseReq.at;
      add(login, 'lease', leased - leaseReq.at);
      add(login, 'docker login + state', t0 + (l?.durationMs ?? 0) - leased);
    }
    add(
      counts,
      'orb login',
      reqs.filter((q) => /\/login$/.test(q.path) || leasePath(env).test(q.path)).length,
    );
    const revokes = reqs.filter((q) => /revoke/.test(q.path));
    add(counts, 'orb logout', revokes.length);
    const firstRevoke = revokes[0];
    if (firstRevoke && o) {
      const logoutEnd = t0 + (l?.durationMs ?? 0) + o.durationMs;
      add(logout, 'start + docker logout', firstRevoke.at - (logoutEnd - o.durationMs));
      add(logout, 'revokes', logoutEnd - firstRevoke.at);
    }
  }
}

/** node -e '', a raw docker login, and the three HTTP exchanges with fetch: what cannot be avoided. */
async function benchFloor(env: TestEnv, floor: Series, n: number) {
  const fx = env.fixtures;
  const dockerConfig = mkdtempSync(join(env.tmpDir, 'bench-floor-'));
  const dockerEnv = { ...process.env, DOCKER_CONFIG: dockerConfig };
  const tokens: string[] = [];
  let credential: { user: string; token: string } | undefined;
  for (let i = 0; i < n + WARMUP; i++) {
    const tNode = await run(process.execPath, ['-e', '']);
    const t0 = performance.now();
    const idRes = await fetch(`${env.issuer.github.requestUrl}&audience=${fx.audience}`, {
      headers: { Authorization: `bearer ${env.issuer.github.requestToken}` },
    });
    const { value: jwt } = (await idRes.json()) as { value: string };
    const login = await post(`${env.vaultAddr}/v1/auth/${fx.githubMount}/login`, {
      role: fx.github.role,
      jwt,
    });
    const vaultToken = login.auth?.client_token ?? '';
    tokens.push(vaultToken);
    const lease = await post(
      `${env.vaultAddr}/v1/${fx.engineMount}/token/${fx.account}/read`,
      { label: 'bench-floor' },
      { 'X-Vault-Token': vaultToken },
    );
    const tHttp = performance.now() - t0;
    credential = { user: lease.data?.username ?? '', token: lease.data?.token ?? '' };
    const tDocker = await run(
      'docker',
      ['login', '--username', credential.user, '--password-stdin', env.registry.host],
      credential.token,
      dockerEnv,
    );
    if (i < WARMUP) continue;
    add(floor, 'node -e ""', tNode);
    add(floor, 'three HTTP exchanges', tHttp);
    add(floor, 'docker login', tDocker);
  }
  for (const t of tokens) {
    await post(`${env.vaultAddr}/v1/auth/token/revoke-self`, {}, { 'X-Vault-Token': t });
  }
  await run('docker', ['logout', env.registry.host], '', dockerEnv);
}

function bundleSizes(): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const d of readdirSync('dist', { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    const f = join('dist', d.name, 'index.js');
    try {
      sizes[f] = statSync(f).size;
    } catch {
      // not an entry point
    }
  }
  return sizes;
}

function machine(): string {
  const docker = spawnSync('docker', ['--version'], { encoding: 'utf8' }).stdout.trim();
  const cpu = cpus();
  return `${cpu.length} x ${cpu[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node ${process.version}, ${docker}`;
}

const fmt = (ms: number) => (Number.isNaN(ms) ? '–' : `${ms.toFixed(0)} ms`);

function table(title: string, s: Series): string {
  const rows = Object.entries(s).map(([k, v]) => `| ${k} | ${fmt(median(v))} | ${fmt(p95(v))} |`);
  return [`| ${title} | median | p95 |`, '|---|---:|---:|', ...rows].join('\n');
}

async function main() {
  const env = await startEnv();
  const series = {
    actionMain: {} as Series,
    actionPost: {} as Series,
    orbLogin: {} as Series,
    orbLogout: {} as Series,
    floor: {} as Series,
    vaultRequests: {} as Series,
    swarmDriver: {} as Series,
  };
  try {
    process.stderr.write(`benchmark: ${RUNS} runs each (+${WARMUP} warm-up)\n`);
    await benchFloor(env, series.floor, RUNS);
    await benchAction(env, series.actionMain, series.actionPost, series.vaultRequests, RUNS);
    await benchOrb(env, series.orbLogin, series.orbLogout, series.vaultRequests, RUNS);
    await benchSwarmDriver(env, series.swarmDriver, RUNS, SWARM_RUNS);
    await benchCredentialHelper(env, RUNS, OUT);
    if (env.engine.liveLeases().length > 0) throw new Error('the benchmark left leases alive');
  } finally {
    await env.stop();
  }

  const floorMedian = ['node -e ""', 'three HTTP exchanges', 'docker login']
    .map((k) => median(series.floor[k] ?? []))
    .reduce((a, b) => a + b, 0);
  const mainMedian = median(series.actionMain.total ?? []);
  const sizes = bundleSizes();
  const requests = Object.fromEntries(
    Object.entries(series.vaultRequests).map(([k, v]) => [k, Math.max(...v)]),
  );
  const ratio = mainMedian / floorMedian;

  const md = [
    `Machine: ${machine()}. ${RUNS} runs each after ${WARMUP} warm-up runs.`,
    '',
    table('Action main', series.actionMain),
    '',
    table('Action post', series.actionPost),
    '',
    table('Orb login', series.orbLogin),
    '',
    table('Orb logout', series.orbLogout),
    '',
    table('Floor', series.floor),
    '',
    table('Swarm secrets driver', series.swarmDriver),
    '',
    `Floor (sum of medians): ${fmt(floorMedian)}. Action main median / floor: **${ratio.toFixed(2)}x** (target <= 1.3x).`,
    '',
    '| bundle | size |',
    '|---|---:|',
    ...Object.entries(sizes).map(([f, b]) => `| ${f} | ${(b / 1024).toFixed(1)} KB |`),
    '',
    '| Vault requests per job (max over runs) | count |',
    '|---|---:|',
    ...Object.entries(requests).map(([k, v]) => `| ${k} | ${v} |`),
    `\n${await benchKubelet(RUNS)}`,
  ].join('\n');

  mkdirSync(OUT, { recursive: true });
  const summary = {
    machine: machine(),
    runs: RUNS,
    series,
    floorMedian,
    mainMedian,
    ratio,
    sizes,
    requests,
  };
  writeFileSync(join(OUT, 'bench.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(join(OUT, 'bench.md'), `${md}\n`);
  process.stdout.write(`${md}\n\nWritten to ${OUT}/bench.json and ${OUT}/bench.md\n`);
}

await main();
