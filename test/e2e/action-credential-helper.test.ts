// The Action's credential-helper mode with the real daemon: a job whose leases last a few seconds
// pulls at t0, after 1.5 and 3 lease TTLs, and after its Vault token died in a long gap; post
// leaves no lease, no live credential, no token and no directory. The same job in login mode
// fails after the first TTL, with the warning. Two jobs side by side keep their own access; a
// skipped post leaves nothing alive past one TTL of the last use.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeArgvRecorder } from '../harness/argv-recorder.js';
import { type ActionRun, runAction } from '../harness/github-runner.js';
import { type DaemonEnv, startEnv } from '../harness/index.js';
import { JobWitness } from '../harness/job-witness.js';
import { findLeaks } from '../harness/leak.js';
import { revokeAllLeases } from './credential-helper-host.js';
import { CREDENTIAL_REFUSED, PULL_DENIED } from './expect-pull.js';
import { expectAllDead, leaseEnded, shortTokenRole, until } from './job-mode.js';

const TTL = 4; // lease TTL, seconds
const TOKEN_TTL = 8; // the role's token TTL, seconds: renewed while the job pulls
let env: DaemonEnv;
let role: string;
let recorder: ReturnType<typeof makeArgvRecorder>;
let scan = '';
const seen: string[] = [];

beforeAll(async () => {
  env = await startEnv({ daemon: true });
  role = await shortTokenRole(env, 'job-short', TOKEN_TTL);
  recorder = makeArgvRecorder(env.tmpDir, ['docker', 'skopeo']);
});
afterEach(async () => {
  env.engine.setLeaseTtl(300);
  await revokeAllLeases(env);
});
afterAll(async () => {
  try {
    const secrets = [...env.secrets(), ...seen];
    expect(findLeaks(scan, secrets, { allowAddMask: true })).toEqual([]);
    const argv = recorder
      .argv()
      .map((a) => a.join(' '))
      .join('\n');
    expect(findLeaks(argv, secrets)).toEqual([]);
  } finally {
    await env?.stop();
  }
});

function inputs(extra: Record<string, string> = {}) {
  return {
    url: env.vaultAddr,
    'auth-mount': env.fixtures.githubMount,
    role,
    audience: env.fixtures.audience,
    account: env.fixtures.account,
    scope: 'write',
    registry: env.registry.host,
    ...extra,
  };
}

/** The env of a later step that runs docker against the test daemon (recorded argv first on PATH). */
function stepEnv(run: ActionRun): NodeJS.ProcessEnv {
  const e = run.stepEnv;
  return {
    ...e,
    PATH: `${recorder.binDir}:${e.PATH}`,
    ...env.daemon.env(e.DOCKER_CONFIG),
  };
}

const pull = (w: JobWitness, run: ActionRun) =>
  w.step('docker', ['pull', env.privateImage], stepEnv(run));

/** Everything a job printed, wrote to the runner's files, and its later steps' environment. */
function collect(run: ActionRun, w?: JobWitness) {
  // The runner's own variables (ACTIONS_ID_TOKEN_REQUEST_TOKEN) are in every step's env by design:
  // what the Action adds is main's GITHUB_ENV and GITHUB_PATH, in `everything`.
  scan += `${run.everything}\n${w?.printed ?? ''}\n`;
  if (w) seen.push(...w.secrets());
}

describe('credential-helper mode (the default)', () => {
  it('pulls at t0, after 1.5 TTL, after 3 TTL and after the token died; post leaves nothing alive', async () => {
    env.engine.setLeaseTtl(TTL);
    const run = await runAction({ env, inputs: inputs(), post: false });
    expect(run.main.exitCode, run.main.output).toBe(0);
    const dockerConfig = run.stepEnv.DOCKER_CONFIG ?? '';
    const jobDir = join(dockerConfig, '..');
    // The job directory: in RUNNER_TEMP, 0700; DOCKER_CONFIG and PATH exported for later steps.
    expect(jobDir, run.main.output).toContain(run.env.RUNNER_TEMP ?? '?');
    expect(statSync(jobDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(jobDir, 'token')).mode & 0o777).toBe(0o600);
    expect(run.main.files.path.trim()).toBe(join(jobDir, 'bin'));
    const cfg = JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8'));
    expect(cfg.credHelpers).toEqual({ [env.registry.host]: 'vault' });
    expect(cfg.auths).toEqual({});
    // The user's own config.json is untouched.
    expect(existsSync(join(run.dockerConfig, 'config.json'))).toBe(false);
    const w = new JobWitness(jobDir);
    w.look();
    const first = run.outputs['lease-id'] ?? '';
    expect(w.leases).toContain(first);

    const t0 = Date.now();
    expect((await pull(w, run)).code, w.printed).toBe(0);
    // 1.5 TTL: the first lease has ended; the helper leases again (the token renewed).
    await leaseEnded(env, first);
    await until(t0 + 1.5 * TTL * 1000);
    const r2 = await pull(w, run);
    expect(r2.code, r2.stderr).toBe(0);
    expect(w.leases.size).toBe(2);
    // 3 TTL: again.
    await until(t0 + 3 * TTL * 1000);
    const r3 = await pull(w, run);
    expect(r3.code, r3.stderr).toBe(0);
    expect(w.leases.size).toBeGreaterThanOrEqual(3);
    expect(w.tokens.size).toBe(1);
    // A gap longer than the token's TTL: the token is dead; the helper logs in again as the job.
    const [token] = [...w.tokens];
    await waitDead(token ?? '');
    const r4 = await pull(w, run);
    expect(r4.code, r4.stderr).toBe(0);
    expect(w.tokens.size).toBe(2);

    const post = await run.runPost();
    expect(post.exitCode, post.output).toBe(0);
    expect(post.commands.filter((c) => c.command === 'warning')).toEqual([]);
    expect(post.output).toContain('Removed the job directory');
    expect(existsSync(jobDir)).toBe(false);
    expect(env.engine.liveLeases()).toEqual([]);
    expect(env.hub.liveTokens()).toEqual([]);
    await expectAllDead(env, w);
    // What the job leaves on disk: RUNNER_TEMP and the user's docker config hold no secret.
    scan += filesUnder(run.env.RUNNER_TEMP ?? '') + filesUnder(run.dockerConfig);
    // docker with the job's DOCKER_CONFIG gone gets no credential any more.
    const after = await run_docker(run);
    expect(after.code).toBe(1);
    collect(run, w);
  });

  it('two jobs of one user on one host keep their own access; one post leaves the other working', async () => {
    env.engine.setLeaseTtl(TTL);
    const a = await runAction({ env, inputs: inputs(), post: false });
    const b = await runAction({ env, inputs: inputs(), post: false });
    expect(a.main.exitCode, a.main.output).toBe(0);
    expect(b.main.exitCode, b.main.output).toBe(0);
    const wa = new JobWitness(join(a.stepEnv.DOCKER_CONFIG ?? '', '..'));
    const wb = new JobWitness(join(b.stepEnv.DOCKER_CONFIG ?? '', '..'));
    expect(wa.jobDir).not.toBe(wb.jobDir);
    expect((await pull(wa, a)).code).toBe(0);
    expect((await pull(wb, b)).code).toBe(0);
    const postA = await a.runPost();
    expect(postA.exitCode, postA.output).toBe(0);
    await expectAllDead(env, wa);
    // B still pulls, now and after its lease was replaced.
    expect((await pull(wb, b)).code).toBe(0);
    const [firstB] = [...wb.leases];
    await leaseEnded(env, firstB ?? '');
    const rb = await pull(wb, b);
    expect(rb.code, rb.stderr).toBe(0);
    expect(existsSync(wb.jobDir)).toBe(true);
    const postB = await b.runPost();
    expect(postB.exitCode, postB.output).toBe(0);
    await expectAllDead(env, wb);
    collect(a, wa);
    collect(b, wb);
  });

  it('post skipped (runner killed): every credential is dead within one TTL of the last use', async () => {
    env.engine.setLeaseTtl(TTL);
    const run = await runAction({ env, inputs: inputs(), post: false });
    expect(run.main.exitCode, run.main.output).toBe(0);
    const w = new JobWitness(join(run.stepEnv.DOCKER_CONFIG ?? '', '..'));
    expect((await pull(w, run)).code).toBe(0);
    const lastUse = Date.now();
    // Leases end with their TTL; the token with its own (nothing renews it without a docker command).
    for (const l of w.leases) await leaseEnded(env, l, TTL * 1000 + 2000);
    for (const t of w.tokens) await waitDead(t, lastUse + TOKEN_TTL * 1000 + 2000 - Date.now());
    await expectAllDead(env, w);
    // What a hosted runner does at the job's end: RUNNER_TEMP is emptied.
    await run.runPost();
    collect(run, w);
  });
});

describe("tools through the job's config", () => {
  it('docker push and pull, and skopeo, lease through the helper', async () => {
    const run = await runAction({ env, inputs: inputs(), post: false });
    expect(run.main.exitCode, run.main.output).toBe(0);
    const w = new JobWitness(join(run.stepEnv.DOCKER_CONFIG ?? '', '..'));
    const e = stepEnv(run);
    expect((await w.step('docker', ['pull', env.privateImage], e)).code).toBe(0);
    const pushed = `${env.registry.host}/acme/job-pushed:1`;
    expect((await w.step('docker', ['tag', env.privateImage, pushed], e)).code).toBe(0);
    const push = await w.step('docker', ['push', pushed], e);
    expect(push.code, push.stderr).toBe(0);
    const authfile = join(e.DOCKER_CONFIG ?? '', 'config.json');
    const skopeo = await w.step(
      'skopeo',
      ['inspect', '--tls-verify=false', '--authfile', authfile, `docker://${pushed}`],
      e,
    );
    expect(skopeo.code, skopeo.stderr).toBe(0);
    expect(JSON.parse(skopeo.stdout).Name).toBe(pushed.replace(/:1$/, ''));
    // One lease served all of it.
    expect(w.leases.size).toBe(1);
    const post = await run.runPost();
    expect(post.exitCode, post.output).toBe(0);
    await expectAllDead(env, w);
    collect(run, w);
  });
});

describe('failures in a later docker step', () => {
  it('name the registry, the Vault path and what to fix', async () => {
    env.engine.setLeaseTtl(TTL);
    const run = await runAction({ env, inputs: inputs(), post: false });
    expect(run.main.exitCode, run.main.output).toBe(0);
    const w = new JobWitness(join(run.stepEnv.DOCKER_CONFIG ?? '', '..'));
    w.look();
    await leaseEnded(env, [...w.leases][0] ?? '');
    // The role's policy no longer lets the job lease: the next lease is refused.
    const path = `${env.fixtures.engineMount}/token/${env.fixtures.account}/write`;
    env.engine.faults.add({ path: `/v1/${path}`, status: 403, times: 10 });
    const r = await pull(w, run);
    env.engine.faults.clear();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`No credential for ${env.registry.host} from Vault`);
    expect(r.stderr).toContain(path);
    expect(r.stderr).toContain('capabilities = ["create", "update"]');
    const post = await run.runPost();
    expect(post.exitCode, post.output).toBe(0);
    await expectAllDead(env, w);
    collect(run, w);
  });
});

describe('login mode (credential-helper: false)', () => {
  it('pulls at t0 and fails after the first TTL, having said so', async () => {
    env.engine.setLeaseTtl(TTL);
    const run = await runAction({
      env,
      inputs: inputs({ 'credential-helper': 'false' }),
      post: false,
    });
    expect(run.main.exitCode, run.main.output).toBe(0);
    expect(run.main.output).toContain(`(lease TTL ${TTL} s)`);
    expect(run.main.output).toContain('fails with "unauthorized" or "denied"');
    expect(run.stepEnv.DOCKER_CONFIG).toBe(run.dockerConfig);
    const w0 = await run_docker(run);
    expect(w0.code, w0.stderr).toBe(0);
    await leaseEnded(env, run.outputs['lease-id'] ?? '');
    const late = await run_docker(run);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(CREDENTIAL_REFUSED);
    await run.runPost();
    collect(run);
  });

  it('on a self-hosted runner, docker login writes to a DOCKER_CONFIG of the job, removed by post', async () => {
    const home = join(env.tmpDir, 'self-hosted-home');
    const run = await runAction({
      env,
      inputs: inputs({ 'credential-helper': 'false' }),
      post: false,
      extraEnv: { RUNNER_ENVIRONMENT: 'self-hosted', DOCKER_CONFIG: undefined, HOME: home },
    });
    expect(run.main.exitCode, run.main.output).toBe(0);
    const own = run.stepEnv.DOCKER_CONFIG ?? '';
    expect(own.startsWith(run.env.RUNNER_TEMP ?? '?')).toBe(true);
    const cfg = JSON.parse(readFileSync(join(own, 'config.json'), 'utf8'));
    expect(Object.keys(cfg.auths)).toEqual([env.registry.host]);
    expect(existsSync(join(home, '.docker', 'config.json'))).toBe(false);
    expect((await run_docker(run)).code).toBe(0);
    const post = await run.runPost();
    expect(post.exitCode, post.output).toBe(0);
    expect(existsSync(join(own, '..'))).toBe(false);
    expect(env.engine.liveLeases()).toEqual([]);
    collect(run);
  });

  it('on a self-hosted runner, a main that failed before Vault answered still has its DOCKER_CONFIG removed by post', async () => {
    const run = await runAction({
      env,
      inputs: inputs({ 'credential-helper': 'false' }),
      post: false,
      idToken: false,
      extraEnv: {
        RUNNER_ENVIRONMENT: 'self-hosted',
        DOCKER_CONFIG: undefined,
        HOME: join(env.tmpDir, 'self-hosted-home-2'),
      },
    });
    expect(run.main.exitCode).toBe(1);
    const own = run.stepEnv.DOCKER_CONFIG ?? '';
    expect(existsSync(own)).toBe(true);
    const post = await run.runPost();
    expect(post.exitCode, post.output).toBe(0);
    expect(post.output).toContain('Nothing to clean up in Vault or docker');
    expect(existsSync(join(own, '..'))).toBe(false);
    collect(run);
  });

  it('falls back to docker login with the warning where the job directory cannot be made', async () => {
    const run = await runAction({
      env,
      inputs: inputs(),
      extraEnv: { RUNNER_TEMP: join(env.tmpDir, 'no-such-dir') },
    });
    expect(run.main.exitCode, run.main.output).toBe(0);
    const warnings = run.main.commands.filter((c) => c.command === 'warning').map((c) => c.message);
    expect(warnings.join('\n')).toContain('credential-helper: ');
    expect(warnings.join('\n')).toContain('(RUNNER_TEMP) cannot be used: ENOENT');
    expect(warnings.join('\n')).toContain('(lease TTL 300 s)');
    expect(run.post?.exitCode).toBe(0);
    expect(env.engine.liveLeases()).toEqual([]);
    const anon = await run_docker(run);
    expect(anon.stderr).toMatch(PULL_DENIED);
    collect(run);
  });
});

function filesUnder(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((f) => f.isFile())
    .map((f) => readFileSync(join(f.parentPath, f.name), 'utf8'))
    .join('\n');
}

async function run_docker(run: ActionRun) {
  const w = new JobWitness('');
  const r = await import('../harness/procs.js').then((p) =>
    p.run('docker', ['pull', env.privateImage], { env: stepEnv(run) }),
  );
  w.printed += `${r.stdout}\n${r.stderr}\n`;
  scan += w.printed;
  return r;
}

async function waitDead(token: string, timeoutMs = 60_000) {
  const { waitFor } = await import('../harness/procs.js');
  await waitFor(
    'the Vault token to die',
    async () => !(await env.vaultTokenAlive(token)),
    undefined,
    Math.max(1000, timeoutMs),
  );
}
