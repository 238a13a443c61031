// Where the Action's start goes, before and after: `npm run profile -- <git revision>` runs the
// dist/ committed at that revision and the working tree's dist/, interleaved, on Node 24 in the
// same environment: plain runs for the medians, and runs under --cpu-prof whose samples are summed
// by phase (the profiler itself slows every phase, so compare profiles with profiles only).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAction } from '../test/harness/github-runner.js';
import { startEnv } from '../test/harness/index.js';
import { node24 } from '../test/harness/node24.js';
import { actionInputs } from './bench/action.js';
import { add, median, type Series } from './bench/stats.js';

const REV = process.argv[2];
const RUNS = Number(process.env.PROFILE_RUNS ?? 10);
if (!REV) throw new Error('usage: npm run profile -- <git revision holding the earlier dist/>');

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string } }[];
  samples: number[];
  timeDeltas: number[];
}

function phase(fn: string, url: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle: waiting on Vault, docker, files';
  if (fn === '(program)') return 'V8 native (parse, compile, runtime)';
  if (
    url.includes('/main/index.js') ||
    url.includes('/post/index.js') ||
    /\/(main|post)\//.test(url)
  )
    return 'bundle code (ours and its libraries)';
  if (url.includes('internal/deps/undici')) return "Node's built-in undici";
  if (/internal\/(bootstrap|process\/pre_execution|main\/)/.test(url)) return 'Node bootstrap';
  if (url.includes('internal/modules/')) return 'module loaders (CommonJS, ES)';
  if (/node:(_http|net|https|tls|_tls|internal\/(streams|http|net|stream_base|tls))/.test(url))
    return 'http, net, tls, streams';
  if (url.includes('child_process')) return 'child_process';
  return url.startsWith('node:') ? 'other Node internals' : 'other';
}

/** Mean self time per profile, by phase, as a table. */
function phases(title: string, dir: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const sums = new Map<string, number>();
  for (const f of files) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile;
    const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
    p.samples.forEach((id, i) => {
      const cf = byId.get(id);
      const k = cf ? phase(cf.functionName, cf.url) : 'other';
      sums.set(k, (sums.get(k) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000 / files.length);
    });
  }
  const rows = [...sums]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `| ${k} | ${v.toFixed(1)} ms |`);
  const total = [...sums.values()].reduce((a, b) => a + b, 0);
  return [
    `| ${title} | self time |`,
    '|---|---:|',
    ...rows,
    `| sampled in all | ${total.toFixed(1)} ms |`,
  ].join('\n');
}

const work = mkdtempSync(join(tmpdir(), 'vdl-profile-'));
const before = join(work, 'before');
mkdirSync(before);
execFileSync('sh', ['-c', `git archive ${JSON.stringify(REV)} dist | tar -x -C ${before}`]);
const dists = { [`dist/ at ${REV}`]: join(before, 'dist'), 'dist/ now': undefined };

const env = await startEnv();
try {
  const inputs = actionInputs(env);
  const plain: Record<string, Series> = {};
  for (let i = 0; i < 2 * RUNS + 2; i++) {
    const profiled = i % 2 === 1;
    for (const [name, dist] of Object.entries(dists)) {
      const dir = (step: string) => join(work, name.replace(/\W+/g, '-'), step);
      const prof = (step: string): Record<string, string> => {
        if (!profiled) return {};
        mkdirSync(dir(step), { recursive: true });
        return { NODE_OPTIONS: `--cpu-prof --cpu-prof-interval=250 --cpu-prof-dir=${dir(step)}` };
      };
      const r = await runAction({
        env,
        inputs,
        node: node24(),
        dist,
        post: false,
        extraEnv: prof('main'),
      });
      const p = await r.runPost(prof('post'));
      if (r.main.exitCode !== 0 || p.exitCode !== 0)
        throw new Error(`${name}: ${r.main.output}${p.output}`);
      if (profiled || i < 2) continue;
      plain[name] ??= {};
      add(plain[name], 'main', r.main.ms);
      add(plain[name], 'post', p.ms);
    }
  }
  console.log(`Node 24, ${RUNS} plain runs and ${RUNS} profiled runs of each, interleaved.\n`);
  for (const [name, s] of Object.entries(plain))
    console.log(
      `${name}: main ${median(s.main).toFixed(0)} ms, post ${median(s.post).toFixed(0)} ms (medians, no profiler)`,
    );
  for (const step of ['main', 'post'])
    for (const name of Object.keys(dists)) {
      const dir = join(work, name.replace(/\W+/g, '-'), step);
      console.log(`\n${phases(`${step}, ${name}: CPU profile, mean per run`, dir)}`);
    }
} finally {
  await env.stop();
}
