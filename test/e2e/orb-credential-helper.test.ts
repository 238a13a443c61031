// The orb's credential_helper mode against real OpenBao, the real registry and a real daemon
// (machine executor: its unix socket; setup_remote_docker: TLS over TCP), with a lease TTL of a
// few seconds: pulls at t0, after 1.5 TTL and after 3 TTL all work through the bash helper; after
// logout nothing is alive; the classic login fails after one TTL; two jobs keep their own access;
// a job whose logout never runs leaves nothing alive one TTL after its last use.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DaemonEnv, type DockerVia, startEnv } from '../harness/index.js';
import { expectNoLeaks } from '../harness/leak.js';
import { expectNothingAlive } from './expect-clean.js';
import { CREDENTIAL_REFUSED } from './expect-pull.js';
import { helperJob } from './orb-helper-job.js';

/** Lease TTL (s) of every credential in this file; the helper role's tokens live 2 TTL. */
const TTL = 4;
const ROLE = 'cci-helper';
const PULLED = /Status: (Downloaded newer image|Image is up to date) for /;

let env: DaemonEnv;
beforeAll(async () => {
  env = await startEnv({ daemon: { tcp: true }, leaseTtl: TTL });
  // A role whose tokens live 2 TTL (renewable up to 10 min): the helper renews on use, so a job
  // whose logout never runs leaves a token that dies 2 TTL after its last use.
  const fx = env.fixtures;
  const r = await fetch(`${env.baoAddr}/v1/auth/${fx.circleciMount}/role/${ROLE}`, {
    method: 'POST',
    headers: { 'X-Vault-Token': env.rootToken, 'content-type': 'application/json' },
    body: JSON.stringify({
      role_type: 'jwt',
      bound_audiences: [fx.audience, fx.circleci.orgId],
      bound_claims: { 'oidc.circleci.com/project-id': fx.circleci.projectId },
      user_claim: 'sub',
      token_policies: ['dockerhub-rw'],
      token_ttl: `${2 * TTL}s`,
      token_max_ttl: '10m',
    }),
  });
  expect(r.status).toBe(204);
});
afterAll(async () => {
  await env?.stop();
});
afterEach(() => {
  expectNothingAlive(env);
});

/** Polls `check` every 100 ms until it holds; fails after `ms`. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms: number) {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the wall clock passes `at` (epoch ms): a point in the job, not a race. */
const reach = (at: number) => until(`t=${at}`, () => Date.now() >= at, at - Date.now() + 1000);

/** The text of every regular file under `dir`, for the leak scan. */
function everyFile(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'latin1'))
    .join('\n');
}

/** Registry credentials the hub issued from index `since` on. */
const issuedSince = (since: number) => env.hub.issued().slice(since);

async function refusedAll(creds: { username: string; token: string }[]): Promise<boolean> {
  for (const c of creds) if (await env.registry.canLogin(c.username, c.token)) return false;
  return true;
}

describe.each<[string, DockerVia]>([
  ['a machine executor', 'unix'],
  ['a docker executor with setup_remote_docker', 'tcp'],
])('credential_helper on %s', (_, via) => {
  it('pulls at t0, after 1.5 TTL and after 3 TTL; logout leaves nothing alive', async () => {
    const job = helperJob(env, `three-${via}`, { via, role: ROLE });
    const since = env.hub.issued().length;
    const login = await job.login();
    expect(login.success, login.output).toBe(true);
    expect(login.output).toContain('Credential helper mode');
    const dir = job.helperDir();
    expect(dir.startsWith(join(job.dir, 'tmp'))).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of ['token', 'settings', 'entries', 'config.json', 'lib.sh']) {
      expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
    }
    expect(login.bashEnv).toContain(`export DOCKER_CONFIG=${dir}`);
    // No lease before the first docker operation.
    expect(issuedSince(since)).toHaveLength(0);

    const t0 = Date.now();
    const first = await job.pull();
    expect(first.success, first.output).toBe(true);
    expect(first.output).toMatch(PULLED);
    expect(issuedSince(since)).toHaveLength(1);
    const firstCred = issuedSince(since);

    // After 1.5 TTL the first lease is dead at the registry, and the helper leases anew.
    await reach(t0 + 1.5 * TTL * 1000);
    await until('the first credential to be refused', () => refusedAll(firstCred), TTL * 1000);
    const second = await job.pull();
    expect(second.success, second.output).toBe(true);
    expect(second.output).toMatch(PULLED);

    await reach(t0 + 3 * TTL * 1000);
    const third = await job.pull();
    expect(third.success, third.output).toBe(true);
    expect(third.output).toMatch(PULLED);
    const creds = issuedSince(since);
    expect(creds.length).toBeGreaterThanOrEqual(3);
    const token = job.vaultToken();
    expect(await env.vaultTokenAlive(token)).toBe(true);
    // The helper's own curl calls were recorded (the argv leak scan is not vacuous).
    expect(job.argv().filter((a) => a[0] === 'curl').length).toBeGreaterThanOrEqual(
      1 + creds.length,
    );

    // What later steps see: no secret in their environment (the step's output is leak-scanned;
    // CircleCI's own OIDC token is left out).
    const shown = await job.run([{ name: 'Env', run: "env | grep -v '^CIRCLE_OIDC_TOKEN'" }]);
    expect(shown.output).toContain(`DOCKER_CONFIG=${dir}`);
    expect(shown.output).toContain(`PATH=${dir}/bin:`);

    const out = await job.logout();
    expect(out.success, out.output).toBe(true);
    expect(out.output).toContain('Revoked the Vault token');
    expect(env.engine.liveLeases()).toEqual([]);
    expect(await refusedAll(creds)).toBe(true);
    expect(await env.vaultTokenAlive(token)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    expect(out.bashEnv).toMatch(/unset DOCKER_CONFIG\n$/);
    // Nothing the job left behind (HOME, TMPDIR, step logs, argv log) holds a secret.
    expectNoLeaks(everyFile(job.dir), env.secrets());
  });
});

describe('credential_helper', () => {
  it('the classic login fails after one TTL, and says so', async () => {
    const job = helperJob(env, 'classic', { role: ROLE });
    const login = await job.login({ credential_helper: false });
    expect(login.success, login.output).toBe(true);
    expect(login.output).toContain(`lease TTL is ${TTL}s`);
    expect(login.output).toContain("fail with 'unauthorized: authentication required'");
    const t0 = Date.now();
    const first = await job.run([{ name: 'Pull', run: `docker pull ${env.privateImage}` }], {
      DOCKER_CONFIG: join(job.dir, 'home', '.docker'),
    });
    expect(first.success, first.output).toBe(true);
    await reach(t0 + 1.5 * TTL * 1000);
    const second = await job.pull();
    expect(second.success).toBe(false);
    expect(second.output).toMatch(CREDENTIAL_REFUSED);
    const out = await job.logout();
    expect(out.success, out.output).toBe(true);
  });

  it('two concurrent jobs keep their own access; the logout of one leaves the other working', async () => {
    const a = helperJob(env, 'job-a', { role: ROLE });
    const b = helperJob(env, 'job-b', { role: ROLE, via: 'tcp' });
    const logins = await Promise.all([a.login(), b.login()]);
    for (const l of logins) expect(l.success, l.output).toBe(true);
    const [dirA, dirB, tokenA, tokenB] = [
      a.helperDir(),
      b.helperDir(),
      a.vaultToken(),
      b.vaultToken(),
    ];
    expect(dirA).not.toBe(dirB);
    const pulls = await Promise.all([a.pull(), b.pull()]);
    for (const p of pulls) expect(p.success, p.output).toBe(true);

    const out = await a.logout();
    expect(out.success, out.output).toBe(true);
    expect(existsSync(dirA)).toBe(false);
    expect(existsSync(dirB)).toBe(true);
    expect(await env.vaultTokenAlive(tokenA)).toBe(false);
    expect(await env.vaultTokenAlive(tokenB)).toBe(true);
    // B still pulls now, and after its first lease ended (a re-lease with its own token).
    const t = Date.now();
    const now = await b.pull();
    expect(now.success, now.output).toBe(true);
    await reach(t + 1.5 * TTL * 1000);
    const later = await b.pull();
    expect(later.success, later.output).toBe(true);
    const end = await b.logout();
    expect(end.success, end.output).toBe(true);
    expect(existsSync(dirB)).toBe(false);
  });

  it('a job whose logout never runs leaves no credential alive one TTL after its last use', async () => {
    const job = helperJob(env, 'killed', { role: ROLE });
    const login = await job.login();
    expect(login.success, login.output).toBe(true);
    const since = env.hub.issued().length;
    const pull = await job.pull();
    expect(pull.success, pull.output).toBe(true);
    const lastUse = Date.now();
    const creds = issuedSince(since);
    expect(creds).toHaveLength(1);
    // Slack for the engine's expiry timer and the registry's re-read of its htpasswd file.
    const slack = 1500;
    await until(
      'every credential to be refused',
      () => refusedAll(creds),
      lastUse + TTL * 1000 + slack - Date.now(),
    );
    expect(env.engine.liveLeases()).toEqual([]);
    // The Vault token lives the role's token_ttl (2 TTL here) after its last renewal.
    const token = job.vaultToken();
    await until(
      'the Vault token to expire',
      async () => !(await env.vaultTokenAlive(token)),
      lastUse + 2 * TTL * 1000 + slack - Date.now(),
    );
  });

  it('shows why in the step that ran docker when Vault refuses the credential', async () => {
    const path = `${env.fixtures.engineMount}/token/nobody/read`;
    const job = helperJob(env, 'refused', { role: ROLE });
    const login = await job.login({
      account: '',
      registry: '',
      registries: JSON.stringify([{ registry: env.registry.host, secret_path: path }]),
    });
    expect(login.success, login.output).toBe(true);
    const pull = await job.pull();
    expect(pull.success).toBe(false);
    expect(pull.output).toContain(
      `vault-docker-login: ERROR: no credential for ${env.registry.host} from Vault at ${env.vaultAddr}: ${path} (write) answered HTTP 403`,
    );
    expect(pull.output).toContain(`the policy of role '${ROLE}' needs capabilities`);
    const out = await job.logout();
    expect(out.success, out.output).toBe(true);
  });

  it('logs in to Vault again when the token expired between two docker commands', async () => {
    const job = helperJob(env, 'relogin', { role: ROLE });
    const login = await job.login();
    expect(login.success, login.output).toBe(true);
    const first = job.vaultToken();
    await until(
      'the login token to expire',
      async () => !(await env.vaultTokenAlive(first)),
      4 * TTL * 1000,
    );
    const pull = await job.pull();
    expect(pull.success, pull.output).toBe(true);
    const header = readFileSync(join(job.helperDir(), 'token'), 'utf8');
    const second = header.replace(/^X-Vault-Token: /, '').trim();
    expect(second).not.toBe(first);
    expect(await env.vaultTokenAlive(second)).toBe(true);
    const out = await job.logout();
    expect(out.success, out.output).toBe(true);
    expect(out.output).toContain('Revoked the Vault token');
    expect(await env.vaultTokenAlive(second)).toBe(false);
  });

  it('serves skopeo through the job config as well as docker', async () => {
    const job = helperJob(env, 'skopeo', { role: ROLE });
    const login = await job.login();
    expect(login.success, login.output).toBe(true);
    const runtime = join(job.dir, 'run');
    const r = await job.run(
      [
        {
          name: 'Inspect with skopeo',
          run: `mkdir -p -m 700 "$XDG_RUNTIME_DIR" && skopeo inspect --tls-verify=false docker://${env.privateImage}`,
        },
      ],
      { XDG_RUNTIME_DIR: runtime },
    );
    expect(r.success, r.output).toBe(true);
    expect(r.output).toContain('"Digest": "sha256:');
    const out = await job.logout();
    expect(out.success, out.output).toBe(true);
  });

  it('reads the helper config it wrote: credHelpers for the registry, other logins carried over', async () => {
    const job = helperJob(env, 'config', { role: ROLE });
    const login = await job.login();
    expect(login.success, login.output).toBe(true);
    const config = JSON.parse(readFileSync(join(job.helperDir(), 'config.json'), 'utf8'));
    expect(config.credHelpers).toEqual({ [env.registry.host]: 'vault' });
    const out = await job.logout();
    expect(out.success, out.output).toBe(true);
  });
});
