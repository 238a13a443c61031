// The packed orb run as CircleCI runs a job, against real OpenBao, a real registry, the real docker
// CLI and a real daemon (local, and remote over TCP): machine and remote-docker executors, no
// jq or python3 needed, cleanup, leaks; the credential pulls a private image, then is refused.
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeArgvRecorder } from '../harness/argv-recorder.js';
import {
  type JobResult,
  type JobStep,
  type ParamValue,
  runJob,
} from '../harness/circleci-runner.js';
import { type DaemonEnv, startEnv } from '../harness/index.js';
import { expectNothingAlive } from './expect-clean.js';
import {
  expectLoginThroughDaemon,
  expectPullRefused,
  expectPullWorks,
  PULL_DENIED,
} from './expect-pull.js';
import { expectNoJobLeaks } from './orb-job.js';

let env: DaemonEnv;
beforeAll(async () => {
  env = await startEnv({ daemon: { tcp: true } });
});
afterAll(async () => {
  await env?.stop();
});
afterEach(() => {
  env.engine.faults.clear();
  // Every test cleans up after itself: nothing may outlive it.
  expectNothingAlive(env);
});

interface JobOptions {
  login?: Record<string, ParamValue>;
  between?: JobStep[];
  env?: Record<string, string | undefined>;
  hide?: string[];
  logout?: boolean;
  oidcEmptyAnswers?: number;
}

/** Runs login [, steps] [, logout] in one job; returns the result and a leak check. */
async function job(opts: JobOptions = {}): Promise<JobResult & { dir: string; argv: string[][] }> {
  const fx = env.fixtures;
  const dir = mkdtempSync(join(env.tmpDir, 'orb-job-'));
  const recorder = makeArgvRecorder(
    dir,
    RECORDED.filter((c) => !opts.hide?.includes(c)),
  );
  const steps: JobStep[] = [
    {
      orb: 'login',
      parameters: {
        credential_helper: false,
        url: env.vaultAddr,
        auth_mount: fx.circleciMount,
        role: fx.circleci.role,
        account: fx.account,
        registry: env.registry.host,
        ...opts.login,
      },
    },
    ...(opts.between ?? []),
    ...(opts.logout === false ? [] : [{ orb: 'logout' }]),
  ];
  const r = await runJob({
    dir,
    steps,
    hide: opts.hide,
    pathPrepend: [recorder.binDir],
    oidcEmptyAnswers: opts.oidcEmptyAnswers,
    oidcTokens: { [fx.audience]: env.issuer.circleciToken({ claims: { aud: fx.audience } }) },
    env: {
      CIRCLE_OIDC_TOKEN: env.issuer.circleciToken(),
      CIRCLE_OIDC_TOKEN_V2: env.issuer.circleciToken({ v2: true }),
      ...opts.env,
    },
  });
  expectNoJobLeaks(r, recorder.argv(), env.secrets());
  return { ...r, dir, argv: recorder.argv() };
}

const RECORDED = ['docker', 'curl', 'jq', 'python3'];

/** The credential docker stored for the test registry. */
function storedCredential(home: string): { username: string; secret: string } {
  const config = JSON.parse(readFileSync(join(home, '.docker', 'config.json'), 'utf8'));
  const auth = Buffer.from(config.auths[env.registry.host].auth, 'base64').toString('utf8');
  const [username = '', secret = ''] = auth.split(/:(.*)/s);
  return { username, secret };
}

describe('orb on a machine executor', () => {
  it('logs in with a minted audience token, pulls, keeps state private, and logout kills everything', async () => {
    const fx = env.fixtures;
    const stateDir = join(env.tmpDir, 'orb-state-machine');
    const since = env.registry.authRequests.length;
    const jobEnv = {
      VAULT_DOCKER_LOGIN_STATE_DIR: stateDir,
      CIRCLE_WORKFLOW_JOB_ID: 'job-1',
      ...env.daemon.env(),
    };
    const login = await job({ login: { audience: fx.audience }, env: jobEnv, logout: false });
    expect(login.success, login.output).toBe(true);
    expect(login.circleciCalls).toEqual([
      ['run', 'oidc', 'get', '--claims', JSON.stringify({ aud: fx.audience })],
    ]);
    expect(login.output).toContain(`Logged in to ${env.registry.host} as '${fx.account}'`);
    expect(login.bashEnv).toContain(`VAULT_DOCKER_LOGIN_USERNAME=${fx.account}`);

    const cred = storedCredential(login.home);
    expect(cred.username).toBe(fx.account);
    expect(await env.registry.canLogin(cred.username, cred.secret)).toBe(true);
    expectLoginThroughDaemon(env, cred.username, since);
    const copy = await expectPullWorks(env, join(login.home, '.docker'));
    expect(statSync(join(login.home, '.docker', 'config.json')).mode & 0o777).toBe(0o600);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    const sessions = sessionFiles(stateDir);
    expect(sessions).toHaveLength(1);
    const session = sessions[0] ?? '';
    expect(statSync(session).mode & 0o777).toBe(0o600);
    const token = /^vault_token=(.+)$/m.exec(readFileSync(session, 'utf8'))?.[1] ?? '';
    expect(await env.vaultTokenAlive(token)).toBe(true);
    expect(env.engine.liveLeases()).toHaveLength(1);

    const logout = await runJob({
      dir: login.dir,
      steps: [{ orb: 'logout' }],
      env: { ...jobEnv, HOME: login.home },
    });
    expectNoJobLeaks(logout, [], env.secrets());
    expect(logout.success, logout.output).toBe(true);
    expect(logout.output).toContain('Revoked the Vault token and lease');
    expect(await env.registry.canLogin(cred.username, cred.secret)).toBe(false);
    await expectPullRefused(env, join(login.home, '.docker'), copy);
    expect(await env.vaultTokenAlive(token)).toBe(false);
    expect(env.engine.liveLeases()).toEqual([]);
    expect(() => statSync(stateDir)).toThrow();
    expect(readFileSync(join(login.home, '.docker', 'config.json'), 'utf8')).not.toContain(
      env.registry.host,
    );
  });

  it('uses two Vault requests to log in and two to clean up', async () => {
    const before = env.engine.requests.length;
    const r = await job();
    expect(r.success, r.output).toBe(true);
    // The recorder saw the real calls, so its argv scan is not vacuous.
    const names = r.argv.map((a) => a[0]);
    expect(names.filter((n) => n === 'curl')).toHaveLength(4);
    // JSON is the orb's own bash: jq and python3 are recorded, and never run.
    expect(names).not.toContain('jq');
    expect(names).not.toContain('python3');
    expect(r.argv).toContainEqual(expect.arrayContaining(['docker', 'login', '--password-stdin']));
    expect(r.argv).toContainEqual(['docker', 'logout', env.registry.host]);
    const seen = env.engine.requests.slice(before).map((q) => `${q.method} ${q.path} ${q.status}`);
    expect(seen).toEqual([
      'POST /v1/auth/circleci/login 200',
      `POST /v1/dockerhub/token/${env.fixtures.account}/read 200`,
      'PUT /v1/sys/leases/revoke 403',
      'POST /v1/auth/token/revoke-self 204',
    ]);
  });

  it('runs logout (when: always) after a failing step, and the job still fails', async () => {
    const r = await job({ between: [{ run: 'echo building; exit 3', name: 'Build' }] });
    expect(r.steps.map((s) => s.status)).toEqual(['success', 'failed', 'success']);
    expect(r.success).toBe(false);
    expect(r.steps[2]?.output).toContain('Revoked the Vault token');
  });

  it('falls back to CIRCLE_OIDC_TOKEN when the V2 variable is absent', async () => {
    const r = await job({ env: { CIRCLE_OIDC_TOKEN_V2: undefined } });
    expect(r.success, r.output).toBe(true);
    expect(r.circleciCalls).toEqual([]);
  });

  it('needs neither jq nor python3: bash, curl and the docker CLI are enough', async () => {
    const r = await job({ hide: ['jq', 'python3'], login: { audience: env.fixtures.audience } });
    expect(r.success, r.output).toBe(true);
    expect(r.circleciCalls).toEqual([
      ['run', 'oidc', 'get', '--claims', JSON.stringify({ aud: env.fixtures.audience })],
    ]);
    expect([...new Set(r.argv.map((a) => a[0]))].sort()).toEqual(['curl', 'docker']);
    expect(r.output).toContain('Revoked the Vault token');
  });
});

describe('orb on a docker executor with setup_remote_docker', () => {
  it('logs in through the remote daemon over TCP, pulls in a later step, and cleans up', async () => {
    const since = env.registry.authRequests.length;
    const r = await job({
      // What setup_remote_docker sets: DOCKER_HOST=tcp://..., DOCKER_TLS_VERIFY, DOCKER_CERT_PATH.
      env: env.daemon.env(undefined, 'tcp'),
      between: [{ name: 'Pull the private image', run: `docker pull ${env.privateImage}` }],
    });
    expect(r.success, r.output).toBe(true);
    expect(r.output).toContain('Login Succeeded');
    expectLoginThroughDaemon(env, env.fixtures.account, since);
    expect(r.steps[1]?.output).toMatch(/Status: (Downloaded newer image|Image is up to date) for /);
    expect(r.output).toContain(`Logged out of ${env.registry.host}`);
    const after = await env.daemon.pull(env.privateImage, join(r.home, '.docker'), 'tcp');
    expect(after.stderr).toMatch(PULL_DENIED);
  });

  it('honours DOCKER_CONFIG for a per-job credential store', async () => {
    const config = join(env.tmpDir, 'orb-docker-config');
    const r = await job({
      env: { DOCKER_CONFIG: config },
      between: [{ name: 'Show the mode', run: 'stat -c "mode=%a" "$DOCKER_CONFIG/config.json"' }],
    });
    expect(r.success, r.output).toBe(true);
    expect(r.steps[1]?.output).toContain('mode=600');
    expect(readFileSync(join(config, 'config.json'), 'utf8')).not.toContain(env.registry.host);
  });
});

function sessionFiles(stateDir: string): string[] {
  return readdirSync(stateDir)
    .filter((f) => /^session\.\w{6}$/.test(f))
    .map((f) => join(stateDir, f));
}
