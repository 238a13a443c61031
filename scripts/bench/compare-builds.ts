// Before and after a change, in one run: the committed dist/ of a git ref against this checkout's
// dist/, each entry point run interleaved (A, B, A, B, ...) against the same services on Node 24,
// so the two sides share the machine's load. `npm run bench:compare -- <ref> [runs]`.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  githubJwtAuth,
  jwtHostConfig,
  writeHelperConfig,
} from '../../test/harness/credential-helper.js';
import { runAction } from '../../test/harness/github-runner.js';
import { startEnv } from '../../test/harness/index.js';
import { node24 } from '../../test/harness/node24.js';
import type { TestEnv } from '../../test/harness/types.js';
import { actionInputs } from './action.js';
import { timed } from './process.js';
import { add, fmt, median, quantile, type Series } from './stats.js';

const REF = process.argv[2] ?? 'HEAD~1';
const RUNS = Number(process.argv[3] ?? 30);
const NODE = node24();

/** The ref's committed dist/, extracted beside the services' files. */
function distOf(ref: string, into: string): string {
  mkdirSync(into, { recursive: true });
  const tar = execFileSync('git', ['archive', ref, 'dist']);
  execFileSync('tar', ['-x', '-C', into], { input: tar });
  return join(into, 'dist');
}

/** Milliseconds from the driver's start to its `serving` line; then it is stopped. */
function driverStart(dist: string, config: string, env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(NODE, [join(dist, 'swarm-driver', 'index.js'), '--config', config], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    let servedMs: number | undefined;
    child.stderr.on('data', (b: Buffer) => {
      err += b;
      if (servedMs === undefined && /info serving /.test(err)) {
        servedMs = performance.now() - t0;
        child.kill('SIGTERM');
      }
    });
    child.once('close', (code) =>
      servedMs === undefined
        ? fail(new Error(`the driver exited ${code}: ${err.trim()}`))
        : done(servedMs),
    );
  });
}

type Case = (dist: string, side: string) => Promise<number>;

function cases(env: TestEnv, dir: string): Record<string, Case> {
  const config = jwtHostConfig(env, dir);
  const base = { PATH: process.env.PATH, HOME: dir };
  let n = 0;
  /** A new, empty cache: each cold get logs in and leases. */
  const cacheDir = (side: string) => {
    const d = join(dir, `cache-${side}-${n++}`);
    mkdirSync(d, { recursive: true, mode: 0o700 });
    return d;
  };
  const get = (dist: string, cache: string) =>
    timed(
      NODE,
      [join(dist, 'credential-helper', 'index.cjs'), 'get'],
      { ...base, VAULT_DOCKER_LOGIN_CONFIG: config, VAULT_DOCKER_LOGIN_CACHE_DIR: cache },
      env.registry.host,
    );
  const request = JSON.stringify({
    apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
    kind: 'CredentialProviderRequest',
    image: `${env.registry.host}/x`,
  });
  const driverDir = join(dir, 'driver');
  mkdirSync(driverDir, { recursive: true, mode: 0o700 });
  const driverConfig = writeHelperConfig(join(driverDir, 'driver.yml'), {
    vault: { url: env.vaultAddr },
    auth: githubJwtAuth(env, driverDir),
    driver: { socket: join(driverDir, 'bench.sock') },
  });
  return {
    'Action main (login mode)': async (dist) => {
      const r = await runAction({ env, inputs: actionInputs(env), node: NODE, dist, post: false });
      if (r.main.exitCode !== 0) throw new Error(`main failed:\n${r.main.output}`);
      await r.runPost();
      return r.main.ms;
    },
    'credential helper, cold get': (dist, side) => get(dist, cacheDir(side)),
    'credential helper, cached get': async (dist, side) => {
      const cache = cacheDir(side);
      await get(dist, cache);
      return get(dist, cache);
    },
    'kubelet provider run': (dist) =>
      timed(NODE, [join(dist, 'kubelet-provider', 'index.js'), '--config', config], base, request),
    'Swarm driver start to serving': (dist) => driverStart(dist, driverConfig, base),
  };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'vdl-bench-compare-'));
  const before = distOf(REF, join(dir, 'before'));
  const after = resolve('dist');
  const commit = execFileSync('git', ['rev-parse', '--short', REF], { encoding: 'utf8' }).trim();
  const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  const env = await startEnv();
  const series: Record<string, { before: Series; after: Series }> = {};
  try {
    const work = join(env.tmpDir, 'compare');
    mkdirSync(work, { recursive: true });
    const all = cases(env, work);
    for (const [name, run] of Object.entries(all)) {
      const s = { before: {}, after: {} };
      series[name] = s;
      // Warm-up, not counted: the page cache, the services' first answers.
      await run(before, 'before');
      await run(after, 'after');
      for (let i = 0; i < RUNS; i++) {
        add(s.before, name, await run(before, 'before'));
        add(s.after, name, await run(after, 'after'));
      }
      process.stderr.write(`${name}: done\n`);
    }
  } finally {
    await env.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const nodeVersion = execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim();
  const rows = Object.entries(series).map(([name, s]) => {
    const [b, a] = [s.before[name] ?? [], s.after[name] ?? []];
    return `| ${name} | ${fmt(median(b))} | ${fmt(median(a))} | ${(median(a) / median(b)).toFixed(2)}x | ${fmt(quantile(b, 0.95))} | ${fmt(quantile(a, 0.95))} |`;
  });
  process.stdout.write(
    [
      `Before: dist/ of ${commit} (${REF}); after: this checkout's dist/ (${head}${execFileSync('git', ['status', '--porcelain', 'dist'], { encoding: 'utf8' }).trim() ? ', modified' : ''}).`,
      `Node ${nodeVersion}, ${RUNS} runs each after one warm-up, interleaved before/after, same services.`,
      '',
      '| entry point | before median | after median | after/before | before p95 | after p95 |',
      '|---|---:|---:|---:|---:|---:|',
      ...rows,
      '',
    ].join('\n'),
  );
}

await main();
