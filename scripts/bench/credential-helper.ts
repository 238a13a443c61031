// The credential helper's part of the benchmark (called from bench.ts with the running services):
// a `get` served from the cache against `node -e ''` (the floor: a process start), a cold `get`
// (Vault login + lease) against the Action's main step, and the Vault requests a get and a real
// `docker pull` (a daemon of its own, the private image) cost.
// Each pair runs interleaved, in the same run and environment; medians over `runs`.
import { spawn } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HELPER_BIN, jwtHostConfig } from '../../test/harness/credential-helper.js';
import { startDaemon } from '../../test/harness/daemon.js';
import { runAction } from '../../test/harness/github-runner.js';
import { run } from '../../test/harness/procs.js';
import type { TestEnv } from '../../test/harness/types.js';
import { actionInputs } from './action.js';

const WARMUP = 3;

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN;
}

/** Runs `node args` with `input` on stdin; its wall time in ms, and its stdout. */
function timed(args: string[], input: string, env: NodeJS.ProcessEnv) {
  const t0 = performance.now();
  return new Promise<{ ms: number; stdout: string; code: number | null }>((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: performance.now() - t0, stdout, code }));
    child.stdin.end(input);
  });
}

export async function benchCredentialHelper(env: TestEnv, runs: number, out: string) {
  const fx = env.fixtures;
  const dir = join(env.tmpDir, 'bench-helper');
  mkdirSync(dir, { recursive: true });
  const config = jwtHostConfig(env, dir);
  let n = 0;
  const hostEnv = (runtime = join(dir, 'run')) => ({
    PATH: process.env.PATH,
    HOME: dir,
    XDG_RUNTIME_DIR: runtime,
    VAULT_DOCKER_LOGIN_CONFIG: config,
  });
  const helper = (verb: string, e: NodeJS.ProcessEnv) =>
    timed([HELPER_BIN, verb], env.registry.host, e);
  const ok = <R extends { code: number | null; stdout: string }>(r: R): R => {
    if (r.code !== 0) throw new Error(`credential helper failed: ${r.stdout}`);
    return r;
  };
  const series = {
    'node -e ""': [] as number[],
    'get, cached': [] as number[],
    'get, cold (login + lease)': [] as number[],
    'Action main': [] as number[],
  };
  const requests = {
    'cold get': 0,
    'cached get': 0,
    '20 concurrent cold gets': 0,
    'docker pull, cold': 0,
    'docker pull, cached': 0,
  };
  const count = async (f: () => Promise<unknown>) => {
    const before = env.engine.requests.length;
    await f();
    return env.engine.requests.length - before;
  };

  // Cached get against a bare node start, interleaved.
  const warm = hostEnv();
  ok(await helper('get', warm));
  for (let i = 0; i < runs + WARMUP; i++) {
    const floor = await timed(['-e', ''], env.registry.host, warm);
    const got = ok(await helper('get', warm));
    if (i < WARMUP) continue;
    series['node -e ""'].push(floor.ms);
    series['get, cached'].push(got.ms);
  }
  requests['cached get'] = await count(() => helper('get', warm));
  ok(await helper('erase', warm));

  // A cold get (empty cache: JWT login, lease) against the Action's main step, interleaved.
  const inputs = actionInputs(env);
  for (let i = 0; i < runs + WARMUP; i++) {
    const action = await runAction({ env, inputs });
    if (action.main.exitCode !== 0 || action.post?.exitCode !== 0)
      throw new Error(`action run failed:\n${action.main.output}\n${action.post?.output ?? ''}`);
    const cold = hostEnv(join(dir, `cold-${++n}`));
    const got = ok(await helper('get', cold));
    ok(await helper('erase', cold));
    if (i < WARMUP) continue;
    series['Action main'].push(action.main.ms);
    series['get, cold (login + lease)'].push(got.ms);
  }
  const cold = hostEnv(join(dir, `cold-${++n}`));
  requests['cold get'] = await count(() => helper('get', cold));
  ok(await helper('erase', cold));
  const burst = hostEnv(join(dir, `cold-${++n}`));
  requests['20 concurrent cold gets'] = await count(() =>
    Promise.all(Array.from({ length: 20 }, () => helper('get', burst).then(ok))),
  );
  ok(await helper('erase', burst));

  // Vault requests per real `docker pull` of a private image, the helper in credHelpers.
  const daemon = await startDaemon(join(dir, 'daemon'));
  try {
    const image = await daemon.pushPrivateImage(env.registry, env.registry.admin);
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(HELPER_BIN, join(bin, 'docker-credential-vault'));
    const cfg = join(dir, 'docker');
    mkdirSync(cfg);
    writeFileSync(
      join(cfg, 'config.json'),
      JSON.stringify({ credHelpers: { [env.registry.host]: 'vault' } }),
    );
    const pullEnv = {
      ...hostEnv(join(dir, `pull-${++n}`)),
      PATH: `${bin}:${process.env.PATH}`,
      ...daemon.env(cfg),
    };
    const pull = async () => {
      const r = await run('docker', ['pull', image], { env: pullEnv });
      if (r.code !== 0) throw new Error(`docker pull failed: ${r.stderr}`);
    };
    requests['docker pull, cold'] = await count(pull);
    requests['docker pull, cached'] = await count(pull);
    ok(await helper('erase', pullEnv));
  } finally {
    await daemon.stop();
  }

  const med = Object.fromEntries(Object.entries(series).map(([k, v]) => [k, quantile(v, 0.5)]));
  const ratios = {
    'cached get / node -e ""': (med['get, cached'] ?? 0) / (med['node -e ""'] ?? 1),
    'cold get / Action main': (med['get, cold (login + lease)'] ?? 0) / (med['Action main'] ?? 1),
  };
  const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
  const md = [
    `Credential helper: ${runs} runs each after ${WARMUP} warm-up runs, pairs interleaved.`,
    '',
    '| credential helper | median | p95 |',
    '|---|---:|---:|',
    ...Object.entries(series).map(
      ([k, v]) => `| ${k} | ${fmt(quantile(v, 0.5))} | ${fmt(quantile(v, 0.95))} |`,
    ),
    '',
    `Cached get / node -e "": **${ratios['cached get / node -e ""'].toFixed(2)}x** (target <= 1.3x). ` +
      `Cold get / Action main: **${ratios['cold get / Action main'].toFixed(2)}x** (target <= 1x).`,
    '',
    '| Vault requests | count |',
    '|---|---:|',
    ...Object.entries(requests).map(([k, v]) => `| ${k} | ${v} |`),
  ].join('\n');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, 'credential-helper.json'),
    `${JSON.stringify({ runs, series, medians: med, ratios, requests }, null, 2)}\n`,
  );
  writeFileSync(join(out, 'credential-helper.md'), `${md}\n`);
  process.stdout.write(`${md}\n\n`);
}
