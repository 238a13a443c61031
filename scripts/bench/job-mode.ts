// The credential-helper mode of a job (the Action's default): what a docker operation costs when
// the helper answers from the job's cache, through the job's bin/docker-credential-vault wrapper,
// against `node -e ''` in the same step environment (interleaved, same run); what a re-lease costs
// (a `get` after the cached lease is due, lease TTL 2 s); and the Vault requests of a whole job of
// 50 docker operations spread over 3 lease TTLs (main, the 50 gets, post).
// Called from bench.ts; alone: npm run bench:job-mode [runs].
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ActionRun, runAction } from '../../test/harness/github-runner.js';
import { startEnv } from '../../test/harness/index.js';
import type { TestEnv } from '../../test/harness/types.js';
import { actionInputs } from './action.js';
import { fmt, median, quantile } from './stats.js';

const WARMUP = 3;

function timed(cmd: string, args: string[], input: string, env: NodeJS.ProcessEnv) {
  const t0 = performance.now();
  return new Promise<{ ms: number; code: number | null; stdout: string }>((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: performance.now() - t0, code, stdout }));
    child.stdin.end(input);
  });
}

/** The cached credential's useUntil, read from the job's cache (the bench runs as the job's user). */
function useUntil(jobDir: string, key: string): number {
  const cache = join(jobDir, 'cache');
  for (const f of readdirSync(cache).filter((n) => n.endsWith('.json'))) {
    const doc = JSON.parse(readFileSync(join(cache, f), 'utf8'));
    const e = doc.entries?.[key];
    if (e) return e.useUntil as number;
  }
  return 0;
}

async function job(env: TestEnv): Promise<{ run: ActionRun; dir: string; wrapper: string }> {
  const run = await runAction({
    env,
    inputs: { ...actionInputs(env), 'credential-helper': 'true' },
    post: false,
  });
  if (run.main.exitCode !== 0) throw new Error(`Action main failed:\n${run.main.output}`);
  const dir = join(run.stepEnv.DOCKER_CONFIG ?? '', '..');
  return { run, dir, wrapper: join(dir, 'bin', 'docker-credential-vault') };
}

export async function benchJobMode(env: TestEnv, runs: number, out: string): Promise<string> {
  const host = env.registry.host;
  const series: Record<string, number[]> = {
    'node -e ""': [],
    'docker-credential-vault get, from the job cache': [],
    'get, re-lease (cached lease due)': [],
  };
  const { run, wrapper } = await job(env);
  const stepEnv = run.stepEnv;
  const ok = <R extends { code: number | null; stdout: string }>(r: R): R => {
    if (r.code !== 0) throw new Error(`helper failed: ${r.stdout}`);
    return r;
  };
  for (let i = 0; i < runs + WARMUP; i++) {
    const floor = await timed(process.execPath, ['-e', ''], host, stepEnv);
    const got = ok(await timed(wrapper, ['get'], host, stepEnv));
    if (i < WARMUP) continue;
    series['node -e ""']?.push(floor.ms);
    series['docker-credential-vault get, from the job cache']?.push(got.ms);
  }
  await run.runPost();

  // Re-lease: leases of 2 s, so each `get` after useUntil (1 s) leases anew.
  env.engine.setLeaseTtl(2);
  const relase = await job(env);
  for (let i = 0; i < Math.min(runs, 10); i++) {
    const due = useUntil(relase.dir, host);
    while (Date.now() <= due) await new Promise((r) => setTimeout(r, 50));
    series['get, re-lease (cached lease due)']?.push(
      ok(await timed(relase.wrapper, ['get'], host, relase.run.stepEnv)).ms,
    );
  }
  await relase.run.runPost();

  // A job of 50 docker operations over 3 lease TTLs (TTL 3 s: one every 180 ms).
  const TTL = 3;
  env.engine.setLeaseTtl(TTL);
  const before = env.engine.requests.length;
  const j = await job(env);
  const afterMain = env.engine.requests.length;
  const start = Date.now();
  for (let i = 0; i < 50; i++) {
    const at = start + (i * TTL * 3000) / 50;
    while (Date.now() < at) await new Promise((r) => setTimeout(r, 10));
    ok(await timed(j.wrapper, ['get'], host, j.run.stepEnv));
  }
  const afterOps = env.engine.requests.length;
  await j.run.runPost();
  const afterPost = env.engine.requests.length;
  env.engine.setLeaseTtl(300);
  const seen = env.engine.requests.slice(afterMain, afterOps);
  const kinds = (re: RegExp) => seen.filter((r) => re.test(r.path)).length;
  const requests = {
    'Action main (login, renew, first lease)': afterMain - before,
    '50 docker operations over 3 TTLs': afterOps - afterMain,
    '  of which leases': kinds(/\/token\//),
    '  of which renew-self': kinds(/renew-self/),
    'Action post (revocations)': afterPost - afterOps,
  };

  const cached = median(series['docker-credential-vault get, from the job cache']);
  const floor = median(series['node -e ""']);
  const md = [
    `Credential-helper mode (job cache, wrapper in the job's bin/): ${runs} runs after ${WARMUP} warm-up, interleaved with the floor in the step's environment.`,
    '',
    '| per docker operation | median | p95 |',
    '|---|---:|---:|',
    ...Object.entries(series).map(
      ([k, v]) => `| ${k} | ${fmt(median(v))} | ${fmt(quantile(v, 0.95))} |`,
    ),
    '',
    `Cached get / node -e "": **${(cached / floor).toFixed(2)}x** (target <= 1.3x).`,
    '',
    '| Vault requests, one job | count |',
    '|---|---:|',
    ...Object.entries(requests).map(([k, v]) => `| ${k} | ${v} |`),
  ].join('\n');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, 'job-mode.json'),
    `${JSON.stringify({ runs, series, ratio: cached / floor, requests }, null, 2)}\n`,
  );
  writeFileSync(join(out, 'job-mode.md'), `${md}\n`);
  return md;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const env = await startEnv();
  try {
    process.stdout.write(
      `${await benchJobMode(env, Number(process.argv[2] ?? 30), 'bench-results')}\n`,
    );
  } finally {
    await env.stop();
  }
}
