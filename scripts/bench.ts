// The benchmark: each entry point against the floor its work costs, measured in the same run and
// in the same environment as the step (`npm run bench`; BENCH_RUNS sets the run count).
// The Action runs on Node 24 (action.yml's runtime) and, side by side, on the machine's Node.
// Phases are read off the stand-ins' request logs, so nothing is instrumented.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { startEnv } from '../test/harness/index.js';
import { node24 } from '../test/harness/node24.js';
import {
  type ActionFigures,
  benchAction,
  FLOOR_MAIN,
  FLOOR_POST,
  type Runtime,
} from './bench/action.js';
import { benchCredentialHelper } from './bench/credential-helper.js';
import { benchDeadlines, type DeadlineCheck } from './bench/deadlines.js';
import { benchJobMode } from './bench/job-mode.js';
import { benchKubelet } from './bench/kubelet.js';
import { benchOrb, benchOrbHelper } from './bench/orb.js';
import { median, ratio, type Series, sumOfMedians, table } from './bench/stats.js';
import { benchSwarmDriver } from './bench/swarm.js';

const RUNS = Number(process.env.BENCH_RUNS ?? process.argv[2] ?? 30);
/** Service convergences on a real Swarm: seconds each, so fewer. */
const SWARM_RUNS = Number(process.env.BENCH_SWARM_RUNS ?? 5);
/** Steps that run into their timeout: seconds each, so fewer. */
const DEADLINE_RUNS = Number(process.env.BENCH_DEADLINE_RUNS ?? 3);
const OUT = 'bench-results';

const version = (bin: string) =>
  spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim().replace(/^v/, 'Node ');

/** Node 24 first; the machine's own Node beside it when it is another version. */
function runtimes(): Runtime[] {
  const n24 = node24();
  const list: Runtime[] = [{ name: version(n24), bin: n24 }];
  const own = spawnSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).stdout.trim();
  if (own && !version(own).startsWith('Node 24')) list.push({ name: version(own), bin: own });
  return list;
}

function bundleSizes(): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const d of readdirSync('dist', { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    for (const f of readdirSync(join('dist', d.name)))
      if (/\.c?js$/.test(f))
        sizes[join('dist', d.name, f)] = statSync(join('dist', d.name, f)).size;
  }
  return sizes;
}

function machine(): string {
  const docker = spawnSync('docker', ['--version'], { encoding: 'utf8' }).stdout.trim();
  const cpu = cpus();
  return `${cpu.length} x ${cpu[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, ${docker}`;
}

function actionReport(f: ActionFigures, bounded: boolean) {
  const main = ratio(
    `Action main on ${f.runtime}`,
    median(f.main.total),
    sumOfMedians(f.floorMain, FLOOR_MAIN),
    1.5,
  );
  const post = ratio(
    `Action post on ${f.runtime}`,
    median(f.post.total),
    sumOfMedians(f.floorPost, FLOOR_POST),
    1.5,
  );
  const md = [
    `### ${f.runtime}`,
    '',
    `Variables that change Node's start, the same for the steps and their floors: ${Object.entries(
      f.startVars,
    )
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}.`,
    '',
    table('Action main', f.main),
    '',
    table('floor of main', f.floorMain),
    '',
    table('Action post', f.post),
    '',
    table('floor of post', f.floorPost),
    '',
    `- ${main.line}`,
    `- ${post.line}`,
  ].join('\n');
  return { md, checks: bounded ? [main, post] : [] };
}

async function main() {
  const t0 = Date.now();
  const env = await startEnv();
  const envStartMs = Date.now() - t0;
  const rts = runtimes();
  const actions: ActionFigures[] = [];
  const swarm: Series = {};
  let orb: Awaited<ReturnType<typeof benchOrb>>;
  let deadlines: { series: Series; checks: DeadlineCheck[] };
  let jobMode = '';
  let orbHelper: Awaited<ReturnType<typeof benchOrbHelper>>;
  try {
    process.stderr.write(
      `benchmark: ${RUNS} runs each, on ${rts.map((r) => r.name).join(' and ')}\n`,
    );
    for (const rt of rts) actions.push(await benchAction(env, rt, RUNS));
    orb = await benchOrb(env, RUNS);
    orbHelper = await benchOrbHelper(env, RUNS);
    await benchSwarmDriver(env, swarm, RUNS, SWARM_RUNS);
    await benchCredentialHelper(env, RUNS, OUT);
    deadlines = await benchDeadlines(env, DEADLINE_RUNS);
    jobMode = await benchJobMode(env, RUNS, OUT);
    if (env.engine.liveLeases().length > 0) throw new Error('the benchmark left leases alive');
  } finally {
    await env.stop();
  }

  const reports = actions.map((f, i) => actionReport(f, i === 0));
  const orbLogin = ratio(
    'Orb login',
    median(orb.login.total),
    median(orb.floorLogin['bash + curl login, lease + docker login']),
    2,
  );
  const orbLogout = ratio(
    'Orb logout',
    median(orb.logout.total),
    median(orb.floorLogout['bash + docker logout + two revokes']),
    2,
  );
  const orbHelperGet = ratio(
    'Orb bash helper, cached get',
    median(orbHelper.cached['get, cached']),
    sumOfMedians(orbHelper.cached, ['bash start', 'curl --version']),
    1.3,
  );
  const checks = [
    ...reports.flatMap((r) => r.checks),
    orbLogin,
    orbLogout,
    orbHelperGet,
    ...deadlines.checks,
  ];
  const requests = {
    'Action main': actions[0]?.requests.main,
    'Action post': actions[0]?.requests.post,
    'orb login': orb.requests.login,
    'orb logout': orb.requests.logout,
  };
  const md = [
    `Machine: ${machine()}. ${RUNS} runs each after warm-up, interleaved with their floors.`,
    '',
    '## Action',
    '',
    ...reports.map((r) => `${r.md}\n`),
    '## Orb',
    '',
    table('Orb login', orb.login),
    '',
    table('floor of login', orb.floorLogin),
    '',
    table('Orb logout', orb.logout),
    '',
    table('floor of logout', orb.floorLogout),
    '',
    `- ${orbLogin.line}`,
    `- ${orbLogout.line}`,
    '',
    '## Credential-helper mode of a job',
    '',
    jobMode,
    '',
    table('Orb bash credential helper (credential_helper: true)', {
      ...orbHelper.cached,
      ...orbHelper.release,
    }),
    '',
    `- ${orbHelperGet.line}`,
    `- A job of ${orbHelper.job.operations} docker operations over 3 lease TTLs (${orbHelper.job.ttl} s, ${orbHelper.job.seconds.toFixed(1)} s): Vault requests ${Object.entries(
      orbHelper.job.requests,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
    '## Swarm secrets driver',
    '',
    table('Swarm secrets driver', swarm),
    '',
    await benchKubelet(RUNS),
    '## Against the timeout input',
    '',
    `${DEADLINE_RUNS} runs each: Vault never answers, or refuses until the timeout. Bound: the timeout plus 2.5 s to start the process (2.5 s in all for a Retry-After past the deadline, which is not waited for).`,
    '',
    table('Failing steps', deadlines.series),
    '',
    ...deadlines.checks.map((c) => `- ${c.line}`),
    '',
    `Test environment start (OpenBao, registry, stand-ins): ${(envStartMs / 1000).toFixed(1)} s.`,
    '',
    '## Bundles and requests',
    '',
    '| bundle | size |',
    '|---|---:|',
    ...Object.entries(bundleSizes()).map(([f, b]) => `| ${f} | ${(b / 1024).toFixed(1)} KB |`),
    '',
    '| Vault requests per step (max over runs) | count |',
    '|---|---:|',
    ...Object.entries(requests).map(([k, v]) => `| ${k} | ${v} |`),
    '',
    `Bounds: ${
      checks.every((c) => c.ok)
        ? 'all within'
        : `OVER: ${checks
            .filter((c) => !c.ok)
            .map((c) => c.label)
            .join(', ')}`
    }.`,
  ].join('\n');

  mkdirSync(OUT, { recursive: true });
  const summary = {
    machine: machine(),
    runs: RUNS,
    actions,
    orb,
    orbHelper,
    swarm,
    deadlines: deadlines.series,
    envStartMs,
    checks,
    requests,
  };
  writeFileSync(join(OUT, 'bench.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(join(OUT, 'bench.md'), `${md}\n`);
  process.stdout.write(`${md}\n\nWritten to ${OUT}/bench.json and ${OUT}/bench.md\n`);
}

await main();
