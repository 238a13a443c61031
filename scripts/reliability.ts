// `npm run reliability`: a 3-node OpenBao Raft cluster under faults and load, every entry point
// against it, and docs/reliability.md written from this one run (reliability-results/ keeps the
// raw figures). Timings are what this machine did, never a pass mark; what must hold (every job
// succeeds or says why, nothing left alive) is asserted by test/e2e/ha-failover.test.ts.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { type HaEnv, startHaEnv } from '../test/harness/ha-env.js';
import { prepareJobs } from '../test/harness/ha-jobs.js';
import {
  type Alive,
  failover,
  postDuringElection,
  rateLimit,
  sealedNode,
  standbyAnswers,
  type Tally,
} from '../test/harness/ha-scenarios.js';
import { actionLoad, helperLoad, providerLoad } from './reliability/load.js';

const OUT = 'reliability-results';
const DOC = join('docs', 'reliability.md');
const KINDS = {
  action: 'Action',
  cli: 'CLI',
  helper: 'credential helper',
  provider: 'kubelet provider',
};

const s = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '-');
/** A table cell: no pipes or newlines, and no scratch paths of this machine. */
const cell = (t: string) =>
  t
    .replace(/\/tmp\/vdl-[\w-]+/g, '<tmp>')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ');

function jobTable(t: Partial<Record<string, Tally>>): string {
  const rows = Object.entries(t).map(([kind, x]) => {
    if (!x) return '';
    const failed = x.failures.length
      ? `${x.jobs - x.ok}: ${x.failures.map((f) => `\`${cell(f)}\``).join('; ')}`
      : '0';
    const cleanups = x.cleanups ? `${x.cleanupsOk}/${x.cleanups}` : 'none (by design)';
    return `| ${KINDS[kind as keyof typeof KINDS]} | ${x.jobs} | ${x.ok} | ${failed} | ${s(x.p50)} | ${s(x.max)} | ${x.retries} (${x.electionWaits}) | ${cleanups} |`;
  });
  return [
    '| entry point | jobs | succeeded | failed, with the message shown | p50 | max | retries announced (election waits) | cleanups that succeeded |',
    '|---|---:|---:|---|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

const aliveLine = (a: Alive) =>
  `${a.leases} lease(s), ${a.tokens} Vault token(s) but root, ${a.registryTokens} registry credential(s)`;

/** Test cases that feed a bad input, from `vitest list`, by their names. */
function badInputs(): { cases: number; files: number } {
  const file = join(OUT, 'vitest-list.json');
  const r = spawnSync('npx', ['vitest', 'list', `--json=${file}`], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error('vitest list failed');
  const list = JSON.parse(readFileSync(file, 'utf8')) as { name: string; file: string }[];
  const bad =
    /\b(refused|refuses|refusals|rejects?|rejected|bad|invalid|malformed|unknown|typo|unsupported|garbage|not an?)\b/i;
  // A refusal by Vault or the registry of a credential is not a bad input.
  const notInput = /(registry|login|token)\b.*\brefuse|revoked|sealed|denied/i;
  const hits = list.filter((t) => bad.test(t.name) && !notInput.test(t.name));
  return { cases: hits.length, files: new Set(hits.map((t) => t.file)).size };
}

function machine(): string {
  const cpu = cpus();
  const bao = spawnSync('bao', ['version'], { encoding: 'utf8' }).stdout.trim().split(' (')[0];
  return `${cpu.length} x ${cpu[0]?.model.trim() ?? 'cpu'} (shared), ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, ${bao}, Node ${process.version}`;
}

async function main() {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const log = (m: string) => process.stdout.write(`${new Date().toISOString()} ${m}\n`);
  log('counting the bad inputs the suite tries (vitest list)');
  const bad = badInputs();

  log('starting the 3-node cluster');
  const t0 = Date.now();
  const env: HaEnv = await startHaEnv();
  const startMs = Date.now() - t0;
  try {
    const jobs = await prepareJobs(env);
    log('standby answers');
    const answers = await standbyAnswers(env);
    log('failover: 50 jobs, the active node SIGKILLed');
    const fo = await failover(
      env,
      jobs,
      { action: 12, orb: 6, cli: 10, helper: 11, provider: 11, direct: 2 },
      1500,
    );
    log('sealed node');
    const sealed = await sealedNode(env, jobs);
    log('rate-limit quotas');
    const quota = await rateLimit(env, jobs, 5, 2);
    log('post steps during an election');
    const post = await postDuringElection(env, jobs, 10);
    log('load: credential helper');
    const helper = await helperLoad(env, 100, 5);
    log('load: kubelet provider');
    const provider = await providerLoad(env, jobs, 200, 20);
    log('load: Action');
    const action = await actionLoad(env, jobs, 100);

    const results = {
      machine: machine(),
      startMs,
      bad,
      answers,
      fo,
      sealed,
      quota,
      post,
      helper,
      provider,
      action,
    };
    writeFileSync(join(OUT, 'reliability.json'), `${JSON.stringify(results, null, 2)}\n`);

    const per = (n: number, d: number) => (n / d).toFixed(1);
    const md = [
      '# Reliability: Vault in HA and under load',
      '',
      '<!-- Generated by `npm run reliability` (scripts/reliability.ts); edit the script, not this page. -->',
      '',
      'What every entry point does when Vault is a 3-node OpenBao cluster with integrated Raft',
      'storage and its worst minute comes: the active node dies mid-job, a node is sealed, a',
      'rate-limit quota bites, a post step runs during the election. And how much load one host and',
      'one cluster take. All figures come from one run on this machine:',
      `${results.machine}. Timings are what it did, not a pass mark; the short version of the`,
      'failover runs in the suite (test/e2e/ha-failover.test.ts), which asserts what must hold.',
      '',
      '## The cluster',
      '',
      'Three `bao server` processes on 127.0.0.1, each with its own Raft data directory, api and',
      'cluster ports, `retry_join` to the others and `performance_multiplier = 1`; initialised',
      '(1 key share), unsealed and joined by the harness (test/harness/openbao-cluster.ts), and',
      `ready once autopilot counts all three as healthy voters: ${s(startMs)} from the first process`,
      "start here. Clients reach one node, as a client configured with one node's address does: the",
      'Docker Hub engine stand-in forwards to a standby (through a TCP relay the scenarios can point',
      "at another node); a few jobs use a node's own address with the KV v2 secret instead.",
      '',
      '### What a standby answers',
      '',
      '| request | active node | standby |',
      '|---|---|---|',
      ...answers.map((r) => `| ${r.request} | ${cell(r.active)} | ${cell(r.standby)} |`),
      '',
      'A standby forwards logins and writes to the active node and answers them itself: clients',
      'see no redirect while the cluster has an active node. During an election they do (below).',
      '',
      '## Faults survived',
      '',
      '### The active node SIGKILLed while 50 jobs log in',
      '',
      `The jobs started together; ${s(fo.killedAtMs)} later the active node got SIGKILL. A node`,
      `answered sys/health 200 again ${s(fo.electionMs)} after the kill. What the front standby`,
      'answered a login with meanwhile (ms after the kill):',
      '',
      ...fo.standbyTimeline.map((l) => `- ${cell(l)}`),
      '',
      `Through the standby (engine stand-in, Docker Hub leases), ${fo.finishedBeforeKill} job(s) finished before the kill; all ran ${s(fo.wallMs)} in all:`,
      '',
      jobTable(fo.jobs),
      '',
      "At the killed node's own address (KV v2, no engine):",
      '',
      jobTable(fo.direct),
      '',
      `Left after every job's own cleanup: ${aliveLine(fo.left)}.`,
      ...fo.left.detail.map((d) => `- ${d}`),
      '',
      'The kubelet provider leaves its lease alive on purpose (the kubelet caches the credential for',
      'its cacheDuration). A JWT-login token left by nobody is a login the dying node committed but',
      'never answered: the client retried and got another; the first lives until its TTL (the',
      "role's token_ttl, 10 min here) and holds no lease, since nothing was leased with it.",
      '',
      `The killed node restarted and was a healthy voter again ${s(fo.rejoinMs)} after its restart;`,
      'then one job of each kind through the standby, and an Action and a CLI login at the restarted',
      "node's own address:",
      '',
      jobTable(fo.afterRejoin),
      '',
      `After the root sweep: ${aliveLine(fo.afterSweep)}.`,
      '',
      `### A sealed node (${sealed.node}, sys/health ${sealed.sealedHealth})`,
      '',
      "Jobs configured with the sealed node's address (timeout 10 s):",
      '',
      jobTable(sealed.atSealed),
      '',
      'Meanwhile through the standby (the cluster keeps its quorum):',
      '',
      jobTable(sealed.viaFront),
      '',
      "After unsealing, at that node's address:",
      '',
      jobTable(sealed.afterUnseal),
      '',
      `Left after the scenario and the sweep: ${aliveLine(sealed.afterSweep)}.`,
      '',
      `### Rate-limit quota: ${quota.rate} logins per second on the JWT login path`,
      '',
      'What OpenBao answered over the quota, without and then with',
      '`sys/quotas/config enable_rate_limit_response_headers`:',
      '',
      ...quota.answers.map((a) => `- \`${cell(a)}\``),
      '',
      'Concurrent Action and CLI jobs under the quota (default retries: 2), without the headers:',
      '',
      jobTable(quota.plain),
      '',
      'With the headers:',
      '',
      jobTable(quota.withHeaders),
      '',
      `Left after the scenario and the sweep: ${aliveLine(quota.afterSweep)}.`,
      '',
      '### Post steps during an election',
      '',
      `${post.posts} Action mains logged in through the standby; then the active node got SIGKILL and`,
      `their post steps ran at once: ${post.postsOk} exited 0, ${post.revoked} revoked their Vault token`,
      `(p50 ${s(post.postMs.p50)}, max ${s(post.postMs.max)}; ${post.electionWaits} election waits announced),`,
      `and ${post.registryTokensLeft} registry credential(s) were left alive.`,
      '',
      "One more main used the killed node's own address (timeout 5 s); its post found no Vault there",
      `and exited ${post.unreachableExit} with:`,
      '',
      '```',
      post.unreachableWarning,
      '```',
      '',
      `Left after the scenario and the sweep: ${aliveLine(post.afterSweep)}.`,
      '',
      '## Load held',
      '',
      '| load | done | failed | wall time | p50 | p99 | Vault requests (clients / audited) | per job or run | per second |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
      `| credential helper: ${helper.gets} concurrent gets, ${helper.registries} registries, one host | ${helper.ok} | ${helper.gets - helper.ok} | ${s(helper.lastMs)} to the last | ${s(helper.p50)} | ${s(helper.p99)} | ${helper.req.clients} / ${helper.req.audited} | ${per(helper.req.clients, helper.gets)} | ${per(helper.req.clients, helper.lastMs / 1000)} |`,
      `| kubelet provider: ${provider.runs} runs, ${provider.width} at a time, 20 service accounts | ${provider.ok} | ${provider.runs - provider.ok} | ${s(provider.wallMs)} | ${s(provider.p50)} | ${s(provider.p99)} | ${provider.req.clients} / ${provider.req.audited} | ${per(provider.req.clients, provider.runs)} | ${per(provider.req.clients, provider.wallMs / 1000)} |`,
      `| Action: ${action.runs} concurrent jobs (main, then post) | ${action.ok} | ${action.runs - action.ok} | ${s(action.wallMs)} | main ${s(action.p50)}, post ${s(action.postP50)} | main ${s(action.p99)}, post ${s(action.postP99)} | ${action.req.clients} / ${action.req.audited} | ${per(action.req.clients, action.runs)} | ${per(action.req.clients, action.wallMs / 1000)} |`,
      '',
      `The helper's ${helper.gets} gets made ${helper.leases} lease(s) for ${helper.registries} registries; the credential`,
      `${helper.works ? 'logged in to the registry' : 'did NOT log in to the registry'}, and after \`erase\` the registry ${helper.revoked ? 'refused it' : 'still ACCEPTED it'}.`,
      'Failures, if any:',
      '',
      ...[...helper.failures, ...provider.failures, ...action.failures].map(
        (f) => `- \`${cell(f)}\``,
      ),
      '',
      '"Clients" counts the requests the engine stand-in received; "audited" the responses in',
      "OpenBao's file audit log (the stand-in's own capability checks included). Every process",
      "shares the machine's CPUs with the cluster, so the times say as much about the machine as",
      'about the code.',
      '',
      '## Nothing lost',
      '',
      '| after | left by the entry points | left after the root sweep |',
      '|---|---|---|',
      `| failover | ${aliveLine(fo.left)} | ${aliveLine(fo.afterSweep)} |`,
      `| sealed node | - | ${aliveLine(sealed.afterSweep)} |`,
      `| rate-limit quota | - | ${aliveLine(quota.afterSweep)} |`,
      `| posts during an election | ${post.registryTokensLeft} registry credential(s) | ${aliveLine(post.afterSweep)} |`,
      `| helper load | - | ${aliveLine(helper.afterSweep)} |`,
      `| provider load | - | ${aliveLine(provider.afterSweep)} |`,
      `| Action load | - | ${aliveLine(action.afterSweep)} |`,
      '',
      '## Bad inputs tried',
      '',
      `The suite tries ${bad.cases} bad inputs, one test case each, in ${bad.files} test files (counted`,
      'from `vitest list` by name: cases that say a bad, invalid, unknown or malformed value is',
      "refused or rejected). Each must be refused with a message naming the setting in the entry point's",
      'own words and the fix, before anything is done.',
      '',
      '## What the retry policy had to learn',
      '',
      '- A standby during an election answers `307` with a `Location` naming the old (dead) active',
      '  node, then briefly `500 local node not active but active cluster node not found`. Both are',
      '  now retried, never followed, and waited out until the timeout without using up the',
      '  retries (src/core/http.ts `electing`): an election took longer than the 0.75-1.5 s that two',
      '  default retries wait. Other 500s still count. A client whose address is the dead node',
      '  itself gets connection refused and stops after its retries: put a load balancer over',
      '  every node, or the address of a node that stays up.',
      '- A `429` from a rate-limit quota waits at least 1 s: a quota counts per interval (1 s at',
      '  least), and OpenBao sends no `Retry-After`, or `Retry-After: 0` with its rate-limit headers',
      '  on, so a retry after 0.25 s was refused again.',
      '- A cleanup that cannot reach Vault names when the Vault token ends on its own (saved at',
      '  login): a KV login has no lease to date it.',
      '',
    ].join('\n');
    writeFileSync(DOC, md);
    log(`wrote ${DOC}`);
  } finally {
    await env.stop();
  }
}

await main();
