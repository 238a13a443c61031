// The CLI's --credential-helper in a GitLab-like job with the real daemon: pulls at t0, after 1.5
// and 3 lease TTLs; logout leaves no lease, credential, token or directory. Two jobs of one user
// on one host: sessions named by CI_JOB_ID, another job's logout refused, one job's logout leaves
// the other working. Classic login fails once its lease ends, and warns when the docker config
// is shared.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeToken } from '../harness/approle.js';
import { type DaemonEnv, startEnv } from '../harness/index.js';
import { JobWitness } from '../harness/job-witness.js';
import { findLeaks } from '../harness/leak.js';
import { run } from '../harness/procs.js';
import { revokeAllLeases } from './credential-helper-host.js';
import { CREDENTIAL_REFUSED } from './expect-pull.js';
import { expectAllDead, leaseEnded, shortTokenRole, until } from './job-mode.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'index.js');
const TTL = 4;
const TOKEN_TTL = 8;
let env: DaemonEnv;
let role: string;
let jwt: string;
let n = 0;
let scan = '';
const seen: string[] = [];

beforeAll(async () => {
  env = await startEnv({ daemon: true });
  role = await shortTokenRole(env, 'gl-job-short', TOKEN_TTL, {
    mount: env.fixtures.gitlabMount,
    role: env.fixtures.gitlab.role,
  });
  jwt = env.issuer.gitlabToken({ expiresIn: 900 });
});
afterEach(async () => {
  env.engine.setLeaseTtl(300);
  await revokeAllLeases(env);
});
afterAll(async () => {
  try {
    expect(findLeaks(scan, [...env.secrets(), ...seen, jwt])).toEqual([]);
  } finally {
    await env?.stop();
  }
});

/** A GitLab job on a shared runner host: its own id, the user's HOME and runtime dir shared. */
function gitlabJob(id: string): NodeJS.ProcessEnv {
  const home = join(env.tmpDir, 'runner-home');
  return {
    PATH: process.env.PATH,
    HOME: home,
    XDG_RUNTIME_DIR: join(home, 'run'),
    TMPDIR: env.tmpDir,
    GITLAB_CI: 'true',
    CI_JOB_ID: id,
    CI_PROJECT_PATH: env.fixtures.gitlab.projectPath,
    VAULT_ID_TOKEN: jwt,
    VAULT_ADDR: env.vaultAddr,
  };
}

function cli(args: string[], e: NodeJS.ProcessEnv) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: e,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      scan += `${args.join(' ')}\n${stdout}\n${stderr}\n`;
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

const loginArgs = () => [
  'login',
  '--credential-helper',
  '--auth-mount',
  env.fixtures.gitlabMount,
  '--role',
  role,
  '--account',
  env.fixtures.account,
  '--scope',
  'write',
  '--registry',
  env.registry.host,
];

/** The step env after `eval "$(vault-docker-login login --credential-helper ...)"`, run by sh. */
async function evalLogin(e: NodeJS.ProcessEnv, args = loginArgs()) {
  const r = await cli(args, e);
  expect(r.code, r.stderr).toBe(0);
  const file = join(env.tmpDir, `exports-${++n}.sh`);
  writeFileSync(file, r.stdout);
  const out = await new Promise<string>((resolve) => {
    const c = spawn('sh', ['-c', `. "$1"; printf '%s\\n%s' "$DOCKER_CONFIG" "$PATH"`, 'sh', file], {
      env: e,
    });
    let o = '';
    c.stdout.on('data', (d: Buffer) => {
      o += d;
    });
    c.on('close', () => resolve(o));
  });
  const [dockerConfig = '', path = ''] = out.split('\n');
  const stepEnv = {
    ...e,
    DOCKER_CONFIG: dockerConfig,
    PATH: path,
    ...env.daemon.env(dockerConfig),
  };
  return { r, stepEnv, w: new JobWitness(join(dockerConfig, '..')) };
}

const pull = (w: JobWitness, e: NodeJS.ProcessEnv) =>
  w.step('docker', ['pull', env.privateImage], e);

describe('vault-docker-login login --credential-helper', () => {
  it('pulls at t0, after 1.5 TTL and after 3 TTL; logout leaves nothing alive', async () => {
    env.engine.setLeaseTtl(TTL);
    const job = gitlabJob('5001');
    const { r, stepEnv, w } = await evalLogin(job);
    expect(r.stdout).toMatch(/^export DOCKER_CONFIG='.+'\nexport PATH='.+':"\$PATH"\n$/);
    expect(w.jobDir.startsWith(env.tmpDir)).toBe(true);
    // The session is named by the job's id.
    const state = join(
      job.XDG_RUNTIME_DIR ?? '',
      `vault-docker-login-${process.getuid?.()}`,
      'job-5001.json',
    );
    expect(existsSync(state)).toBe(true);
    w.look();
    const [first] = [...w.leases];
    const t0 = Date.now();
    expect((await pull(w, stepEnv)).code, w.printed).toBe(0);
    await leaseEnded(env, first ?? '');
    await until(t0 + 1.5 * TTL * 1000);
    const r2 = await pull(w, stepEnv);
    expect(r2.code, r2.stderr).toBe(0);
    await until(t0 + 3 * TTL * 1000);
    const r3 = await pull(w, stepEnv);
    expect(r3.code, r3.stderr).toBe(0);
    expect(w.leases.size).toBeGreaterThanOrEqual(3);

    const out = await cli(['logout'], job);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toContain('Removed the job directory');
    expect(existsSync(w.jobDir)).toBe(false);
    expect(existsSync(state)).toBe(false);
    expect(env.engine.liveLeases()).toEqual([]);
    await expectAllDead(env, w);
    seen.push(...w.secrets());
    scan += w.printed;
  });

  it("with the user's own VAULT_TOKEN the mode is refused before anything is made: that token must not be revoked", async () => {
    const own = await makeToken(env, ['dockerhub-rw-revoke'], '1h');
    seen.push(own);
    const job = { ...gitlabJob('5501'), VAULT_TOKEN: own };
    const leases = env.engine.liveLeases().length;
    const r = await cli([...loginArgs(), '--identity', 'vault-token'], job);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--credential-helper needs a JWT login');
    expect(r.stderr).toContain('Pass --identity, or leave out --credential-helper.');
    expect(r.stdout).toBe('');
    expect(env.engine.liveLeases()).toHaveLength(leases);
    expect(await env.vaultTokenAlive(own)).toBe(true);
  });

  it("two jobs of one user: another job's logout is refused; one logout leaves the other working", async () => {
    env.engine.setLeaseTtl(TTL);
    const a = gitlabJob('6001');
    const b = gitlabJob('6002');
    const ja = await evalLogin(a);
    const jb = await evalLogin(b);
    expect((await pull(ja.w, ja.stepEnv)).code).toBe(0);
    expect((await pull(jb.w, jb.stepEnv)).code).toBe(0);
    // B asks to end A's session: refused, and A keeps working.
    const refused = await cli(['logout', '--session', 'job-6001'], b);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('belongs to CI job 6001 (CI_JOB_ID); this is job 6002');
    expect((await pull(ja.w, ja.stepEnv)).code).toBe(0);
    // A's own logout: A is dead, B keeps pulling past its first lease.
    expect((await cli(['logout'], a)).code).toBe(0);
    await expectAllDead(env, ja.w);
    const [firstB] = [...jb.w.leases];
    await leaseEnded(env, firstB ?? '');
    const rb = await pull(jb.w, jb.stepEnv);
    expect(rb.code, rb.stderr).toBe(0);
    expect((await cli(['logout'], b)).code).toBe(0);
    await expectAllDead(env, jb.w);
    for (const j of [ja, jb]) {
      seen.push(...j.w.secrets());
      scan += j.w.printed;
    }
  });

  it("--export-file appends DOCKER_CONFIG and PATH for the job's later steps", async () => {
    const job = gitlabJob('7001');
    const exportFile = join(env.tmpDir, 'job-7001.env');
    const r = await cli([...loginArgs(), '--export-file', exportFile], job);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const lines = readFileSync(exportFile, 'utf8');
    const dockerConfig = /^DOCKER_CONFIG=(.+)$/m.exec(lines)?.[1] ?? '';
    const path = /^PATH=(.+)$/m.exec(lines)?.[1] ?? '';
    expect(path.startsWith(join(dockerConfig, '..', 'bin'))).toBe(true);
    const w = new JobWitness(join(dockerConfig, '..'));
    const e = { ...job, PATH: path, ...env.daemon.env(dockerConfig) };
    expect((await pull(w, e)).code, w.printed).toBe(0);
    expect((await cli(['logout'], job)).code).toBe(0);
    await expectAllDead(env, w);
    seen.push(...w.secrets());
    scan += w.printed + lines;
  });

  it('classic login: pulls at t0 and fails once its lease ends, having said when', async () => {
    env.engine.setLeaseTtl(TTL);
    const dockerConfig = join(env.tmpDir, 'classic-9001');
    const job = { ...gitlabJob('9001'), DOCKER_CONFIG: dockerConfig };
    const r = await cli(
      loginArgs().filter((a) => a !== '--credential-helper'),
      job,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`(lease TTL ${TTL} s); docker commands after that fail`);
    const [lease = ''] = env.engine.liveLeases();
    const stepEnv = { ...job, ...env.daemon.env(dockerConfig) };
    const first = await run('docker', ['pull', env.privateImage], { env: stepEnv });
    expect(first.code, first.stderr).toBe(0);
    await leaseEnded(env, lease);
    const late = await run('docker', ['pull', env.privateImage], { env: stepEnv });
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(CREDENTIAL_REFUSED);
    expect((await cli(['logout'], job)).code).toBe(0);
    scan += first.stdout + first.stderr + late.stdout + late.stderr;
  });

  it('classic login in a CI job warns that ~/.docker/config.json is shared', async () => {
    const job = gitlabJob('8001');
    const args = loginArgs().filter((a) => a !== '--credential-helper');
    const r = await cli(args, job);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('DOCKER_CONFIG is not set');
    expect(r.stderr).toContain('lease TTL 300 s');
    expect((await cli(['logout'], job)).code).toBe(0);
    expect(env.engine.liveLeases()).toEqual([]);
  });
});
