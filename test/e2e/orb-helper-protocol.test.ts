// The orb's bash docker-credential-vault run as docker runs it, against real OpenBao and the
// engine stand-in: the protocol (get, list, store, erase, version, unknown registries), one lease
// for many gets, one lease for concurrent gets (flock, and the mkdir lock without flock), Docker
// Hub's spellings, the carried-over config, failures that name the registry, path and fix,
// untrusted cache files, and the fallback to docker login where the mode cannot work.
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEnv, type TestEnv } from '../harness/index.js';
import { expectNothingAlive } from './expect-clean.js';
import { type HelperJob, helperJob } from './orb-helper-job.js';

let env: TestEnv;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.stop();
});
afterEach(() => {
  env.engine.faults.clear();
  expectNothingAlive(env);
});

const role = () => env.fixtures.circleci.role;
const enginePath = () => `${env.fixtures.engineMount}/token/${env.fixtures.account}/read`;
const leaseCalls = (since: number) =>
  env.engine.requests.slice(since).filter((q) => q.path.startsWith('/v1/dockerhub/token/'));

/** A logged-in helper job; the test logs it out. */
async function loggedIn(
  name: string,
  params: Record<string, string | boolean> = {},
  hide?: string[],
): Promise<HelperJob> {
  const job = helperJob(env, name, { role: role(), hide });
  const r = await job.login(params);
  expect(r.success, r.output).toBe(true);
  return job;
}

async function done(job: HelperJob) {
  const out = await job.logout();
  expect(out.success, out.output).toBe(true);
}

describe('the bash helper protocol', () => {
  it('answers get from one lease, and list, version, store, erase and unknown registries', async () => {
    const job = await loggedIn('protocol');
    const since = env.engine.requests.length;
    const a = await job.helper('get', `${env.registry.host}\n`);
    expect(a.code, a.stdout).toBe(0);
    const cred = JSON.parse(a.stdout);
    expect(cred).toMatchObject({ ServerURL: env.registry.host, Username: env.fixtures.account });
    expect(await env.registry.canLogin(cred.Username, cred.Secret)).toBe(true);
    for (const url of [env.registry.host, `https://${env.registry.host}`]) {
      const again = await job.helper('get', url);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout).Secret).toBe(cred.Secret);
    }
    expect(leaseCalls(since)).toHaveLength(1);

    const unknown = await job.helper('get', 'registry.invalid:5000');
    expect(unknown).toMatchObject({
      code: 1,
      stdout: 'credentials not found in native keychain\n',
    });
    const list = await job.helper('list', '');
    expect(JSON.parse(list.stdout)).toEqual({ [env.registry.host]: env.fixtures.account });
    expect((await job.helper('version', '')).stdout).toContain('docker-credential-vault');
    const store = await job.helper('store', JSON.stringify({ ServerURL: 'x', Username: 'u' }));
    expect(store.code).toBe(1);
    expect(store.stdout).toContain('docker login is not needed');
    expect((await job.helper('erase', env.registry.host)).code).toBe(0);
    // Erased from the cache: the next get leases anew.
    expect((await job.helper('get', env.registry.host)).code).toBe(0);
    expect(leaseCalls(since)).toHaveLength(2);
    await done(job);
    expect(await env.registry.canLogin(cred.Username, cred.Secret)).toBe(false);
  });

  it.each([
    ['flock', []],
    ['a lock directory (no flock on PATH)', ['flock']],
  ])('mints once for eight concurrent gets with %s', async (_, hide) => {
    const job = await loggedIn(`concurrent-${hide.length}`, {}, hide);
    if (hide.length) {
      // A lock left by a process that died is broken, not waited on.
      const lock = join(job.helperDir(), 'lock.d');
      mkdirSync(lock, { mode: 0o700 });
      writeFileSync(join(lock, 'pid'), '999999\n');
    }
    env.engine.faults.add({ path: '/v1/dockerhub/token/', delayMs: 400 });
    const since = env.engine.requests.length;
    const shadow = join(job.dir, 'shadow-bin');
    const extra = hide.length ? { PATH: `${job.dir}/argv-bin:${shadow}` } : undefined;
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => job.helper('get', env.registry.host, extra)),
    );
    for (const a of answers) expect(a.code, a.stdout + a.stderr).toBe(0);
    expect(new Set(answers.map((a) => JSON.parse(a.stdout).Secret)).size).toBe(1);
    expect(leaseCalls(since)).toHaveLength(1);
    await done(job);
  });

  it('sends every Docker Hub spelling to the helper and carries over other logins', async () => {
    const home = join(env.tmpDir, 'hub-home');
    mkdirSync(join(home, '.docker', 'cli-plugins'), { recursive: true });
    const other = Buffer.from('someone:not-ours').toString('base64');
    writeFileSync(
      join(home, '.docker', 'config.json'),
      JSON.stringify({
        auths: { 'other.example:5000': { auth: other } },
        credsStore: 'pass',
        credHelpers: { 'gcr.io': 'gcloud', 'docker.io': 'desktop' },
      }),
    );
    const job = helperJob(env, 'hub', { role: role() });
    const registries = JSON.stringify([
      { registry: '', secret_path: enginePath() },
      {
        registry: env.registry.host,
        secret_path: `${env.fixtures.kvMount}/data/${env.fixtures.kvPath}`,
      },
    ]);
    const r = await job.run(
      [
        {
          orb: 'login',
          parameters: {
            url: env.vaultAddr,
            auth_mount: env.fixtures.circleciMount,
            role: role(),
            registries,
            credential_helper: true,
          },
        },
      ],
      { HOME: home },
    );
    expect(r.success, r.output).toBe(true);
    const config = JSON.parse(readFileSync(join(job.helperDir(), 'config.json'), 'utf8'));
    expect(config).toEqual({
      credHelpers: {
        'gcr.io': 'gcloud',
        'https://index.docker.io/v1/': 'vault',
        'index.docker.io': 'vault',
        'docker.io': 'vault',
        'registry-1.docker.io': 'vault',
        [env.registry.host]: 'vault',
      },
      auths: { 'other.example:5000': { auth: other } },
      credsStore: 'pass',
      cliPluginsExtraDirs: [join(home, '.docker', 'cli-plugins')],
    });
    const since = env.engine.requests.length;
    for (const url of ['https://index.docker.io/v1/', 'docker.io', 'registry-1.docker.io']) {
      const a = await job.helper('get', url);
      expect(a.code, a.stdout).toBe(0);
      expect(JSON.parse(a.stdout)).toMatchObject({
        ServerURL: url,
        Username: env.fixtures.account,
      });
    }
    expect(leaseCalls(since)).toHaveLength(1);
    // The KV secret has no lease: served, nothing recorded to revoke.
    const kv = await job.helper('get', env.registry.host);
    expect(JSON.parse(kv.stdout).Username).toBe(env.fixtures.kvUsername);
    expect(readFileSync(join(job.helperDir(), 'leases'), 'utf8').trim().split('\n')).toHaveLength(
      1,
    );
    await done(job);
  });

  it('names the registry, the Vault path and the fix when Vault refuses', async () => {
    const path = `${env.fixtures.engineMount}/token/nobody/read`;
    const job = await loggedIn('refused', {
      registry: '',
      account: '',
      registries: JSON.stringify([{ registry: '127.0.0.1:1', secret_path: path }]),
    });
    const a = await job.helper('get', '127.0.0.1:1');
    expect(a.code).toBe(1);
    expect(a.stdout).toContain(`no credential for 127.0.0.1:1 from Vault at ${env.vaultAddr}`);
    expect(a.stdout).toContain(`${path} (write) answered HTTP 403`);
    expect(a.stdout).toContain(`the policy of role '${role()}' needs capabilities`);
    await done(job);
  });

  it('revokes each lease it made, one by one where the policy allows, then the token', async () => {
    const job = await loggedIn('revoke-each', { role: env.fixtures.circleci.roleCanRevoke });
    for (let i = 0; i < 2; i++) {
      expect((await job.helper('get', env.registry.host)).code).toBe(0);
      expect((await job.helper('erase', env.registry.host)).code).toBe(0);
    }
    const leases = readFileSync(join(job.helperDir(), 'leases'), 'utf8').trim().split('\n');
    expect(leases).toHaveLength(2);
    const since = env.engine.requests.length;
    await done(job);
    expect(
      env.engine.requests.slice(since).map((q) => `${q.method} ${q.path} ${q.status}`),
    ).toEqual([
      'PUT /v1/sys/leases/revoke 204',
      'PUT /v1/sys/leases/revoke 204',
      'POST /v1/auth/token/revoke-self 204',
    ]);
  });

  it('does not trust a directory others may open', async () => {
    const job = await loggedIn('open-dir');
    chmodSync(job.helperDir(), 0o755);
    const a = await job.helper('get', env.registry.host);
    expect(a.code).toBe(1);
    expect(a.stdout).toContain('is open to others (drwxr-xr-x); not trusting it');
    chmodSync(job.helperDir(), 0o700);
    await done(job);
  });

  it('does not serve a cache file that is a symlink, and leases instead', async () => {
    const job = await loggedIn('symlink');
    const fake = join(job.dir, 'fake');
    writeFileSync(fake, `${Date.now() + 600_000}\n"mallory"\n"stolen"\n`);
    symlinkSync(fake, join(job.helperDir(), 'cache', '0'));
    const a = await job.helper('get', env.registry.host);
    expect(a.code, a.stdout).toBe(0);
    expect(JSON.parse(a.stdout).Username).toBe(env.fixtures.account);
    expect(readFileSync(fake, 'utf8')).toContain('mallory');
    await done(job);
  });
});

describe('one helper per job', () => {
  it('refuses a second login step with credential_helper, before creating anything', async () => {
    const job = await loggedIn('twice');
    const again = await job.login();
    expect(again.success).toBe(false);
    expect(again.output).toContain(
      "parameter 'credential_helper' is invalid here: an earlier login step of this job already set up the credential helper",
    );
    // Still the one login state of the first step (helperDir reads it and wants exactly one).
    expect(job.helperDir()).toMatch(/helper\.\w{6}$/);
    await done(job);
  });
});

describe('fallback to docker login', () => {
  it.each([
    ['$BASH_ENV is not set', { BASH_ENV: '' }, '$BASH_ENV is not set'],
    ['config.json is not JSON', {}, 'is not a JSON object'],
  ])('when %s, with a warning naming the lease TTL', async (_, extra, why) => {
    const job = helperJob(env, `fallback-${why.length}`, { role: role() });
    const home = join(job.dir, 'home');
    if (why.startsWith('is not')) {
      mkdirSync(join(home, '.docker'), { recursive: true });
      writeFileSync(join(home, '.docker', 'config.json'), '{"auths": ');
    }
    const r = await job.run(
      [
        {
          orb: 'login',
          parameters: {
            url: env.vaultAddr,
            auth_mount: env.fixtures.circleciMount,
            role: role(),
            account: env.fixtures.account,
            registry: env.registry.host,
            credential_helper: true,
          },
        },
      ],
      extra,
    );
    expect(r.success, r.output).toBe(true);
    expect(r.output).toMatch(
      /WARNING: credential_helper cannot work here: .*lease TTL is 300s \(until \S+\), and docker pulls and pushes to \S+ after that fail with 'unauthorized: authentication required'/,
    );
    expect(r.output).toContain(why);
    expect(r.output).toContain('Login Succeeded');
    const out = await job.logout();
    expect(out.success, out.output).toBe(true);
  });
});
