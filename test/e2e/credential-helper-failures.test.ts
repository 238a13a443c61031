// The credential helper failing loudly for a configured registry (Vault down, denied, a wrapping
// token used twice), with messages that name the fix; going on anonymously only when the
// configuration opts in; and a burst of gets sharing one failure instead of each retrying.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baoApi, makeAppRole } from '../harness/approle.js';
import { startEnv, type TestEnv } from '../harness/index.js';
import { freePort } from '../harness/procs.js';
import {
  enginePath,
  type HostKit,
  helperSuite,
  jwtAuth,
  leaseWrites,
  secretFile,
} from './credential-helper-host.js';

const NOT_FOUND = 'credentials not found in native keychain\n';

let env: TestEnv;
let kit: HostKit;

const extraSecrets = helperSuite({
  start: () => startEnv(),
  ready: (e, k) => {
    env = e;
    kit = k;
  },
});

const registries = () => [{ registry: env.registry.host, secret_path: enginePath(env) }];

describe('Vault down', () => {
  it('fails the get with a message naming Vault, the setting and the opt-in, on stdout and stderr', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const h = kit.host({
      vault: { url: closed, retries: 0 },
      auth: jwtAuth(env, env.tmpDir),
      registries: registries(),
    });
    const r = await h.get(env.registry.host);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('credentials not found');
    expect(r.stdout).toMatch(
      new RegExp(
        `^No credential for ${env.registry.host} from Vault \\(configuration .*config\\.yml\\): Cannot reach ${closed}/v1/auth/github/login: ECONNREFUSED`,
      ),
    );
    expect(r.stdout).toMatch(/Check that Vault at .* \(vault\.url\) is running and reachable/);
    expect(r.stdout).toMatch(/set credential_helper\.on_error: anonymous/);
    expect(r.stderr).toContain(r.stdout.split('\n')[0]);
  });

  it('goes on anonymously only when on_error: anonymous, saying so on stderr', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const h = kit.host({
      vault: { url: closed, retries: 0 },
      auth: jwtAuth(env, env.tmpDir),
      registries: registries(),
      credential_helper: { on_error: 'anonymous' },
    });
    const r = await h.get(env.registry.host);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(NOT_FOUND);
    expect(r.stderr).toMatch(
      /going on without credentials for .* \(credential_helper\.on_error: anonymous\): No credential .* ECONNREFUSED/,
    );
  });

  it('20 concurrent gets while Vault is unavailable make one attempt and all fail with its message', async () => {
    const h = kit.host({
      vault: { url: env.vaultAddr, retries: 0 },
      auth: jwtAuth(env, env.tmpDir),
      registries: registries(),
    });
    // Answered slowly, so every get has started (and waits) before the attempt fails. A get that
    // starts after a failure tries again, by design: on a loaded machine the 20th process may
    // start 5 s late, so a second attempt is allowed; 20 would mean no sharing at all.
    env.engine.faults.add({ path: /\/login$/, status: 503, delayMs: 5000, times: 100 });
    const logins = () => env.engine.requests.filter((q) => q.path.endsWith('/login')).length;
    const before = logins();
    const answers = await Promise.all(Array.from({ length: 20 }, () => h.get(env.registry.host)));
    for (const a of answers) {
      expect(a.code).toBe(1);
      expect(a.stdout).toMatch(/Vault kept answering 503 on auth\/github\/login: Vault is sealed/);
    }
    expect(logins() - before).toBeGreaterThanOrEqual(1);
    expect(logins() - before).toBeLessThanOrEqual(2);
    // Vault back: the next get (a new caller) tries again and gets a credential.
    env.engine.faults.clear();
    expect((await h.get(env.registry.host)).code).toBe(0);
    await h.erase(env.registry.host);
  });
});

describe('Vault refuses', () => {
  it('a role whose policy may not create tokens: the policy stanza to add', async () => {
    const fx = env.fixtures;
    const h = kit.host({
      vault: { url: env.vaultAddr },
      auth: { ...jwtAuth(env, env.tmpDir), role: fx.github.roleNoCreate },
      registries: registries(),
    });
    const leases = leaseWrites(env);
    const r = await h.get(env.registry.host);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(`Vault denied writing ${enginePath(env)} \\(403 permission denied\\)`),
    );
    expect(r.stdout).toMatch(/capabilities = \["create", "update"\]/);
    expect(leaseWrites(env)).toBe(leases);
  });

  it('a JWT the role does not accept: the claims to compare, never the token', async () => {
    const fx = env.fixtures;
    const h = kit.host({
      vault: { url: env.vaultAddr },
      auth: { ...jwtAuth(env, env.tmpDir), role: fx.github.roleOtherRef },
      registries: registries(),
    });
    const r = await h.get(env.registry.host);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/Vault login failed for role "gh-release"/);
    expect(r.stdout).toMatch(/vault read auth\/github\/role\/gh-release/);
    expect(r.stdout).toMatch(/bound_claims/);
  });
});

describe('AppRole with a response-wrapped secret_id', () => {
  it('unwraps once and keeps the secret_id in auth.state_dir, shared by a second configuration file; a token someone else used is reported as interception', async () => {
    const role = await makeAppRole(env, 'helper-pull', ['dockerhub-rw']);
    const wrap = await role.wrappedSecretId();
    extraSecrets.push(wrap);
    const stateDir = join(env.tmpDir, 'helper-state');
    const auth = {
      method: 'approle',
      role_id: role.roleId,
      secret_id_file: secretFile(env.tmpDir, 'wrapped-secret-id', wrap),
      secret_id_wrapped: true,
      role_name: 'helper-pull',
      state_dir: stateDir,
    };
    const h = kit.host({ vault: { url: env.vaultAddr }, auth, registries: registries() });
    expect((await h.get(env.registry.host)).code).toBe(0);
    const kept = readdirSync(stateDir);
    expect(kept).toHaveLength(1);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(stateDir, kept[0] ?? '')).mode & 0o777).toBe(0o600);
    extraSecrets.push(
      (JSON.parse(readFileSync(join(stateDir, kept[0] ?? ''), 'utf8')) as { value: string }).value,
    );
    // Erase revokes the token; the next get logs in again with the kept secret_id, no unwrap.
    expect((await h.erase(env.registry.host)).code).toBe(0);
    const unwraps = () =>
      env.engine.requests.filter((q) => q.path === '/v1/sys/wrapping/unwrap').length;
    const before = unwraps();
    expect((await h.get(env.registry.host)).code).toBe(0);
    expect(unwraps()).toBe(before);
    await h.erase(env.registry.host);

    // A second configuration file (its own cache, as with `sudo docker` or another DOCKER_CONFIG)
    // delivered the same wrapping token: it finds the kept secret_id, no alarm.
    const second = kit.host({ vault: { url: env.vaultAddr }, auth, registries: registries() });
    const t0 = Date.now();
    const r = await second.get(env.registry.host);
    expect(r.code, r.stdout).toBe(0);
    console.info(
      `helper, second configuration file, used wrapping token: answered in ${Date.now() - t0} ms`,
    );
    expect(unwraps()).toBe(before);
    await second.erase(env.registry.host);

    // A wrapping token someone else unwrapped: nothing of ours holds its secret_id.
    const stolen = await role.wrappedSecretId();
    extraSecrets.push(stolen);
    const taken = await baoApi(env, 'POST', 'sys/wrapping/unwrap', undefined, { token: stolen });
    extraSecrets.push((taken.data as { secret_id: string }).secret_id);
    const victim = kit.host({
      vault: { url: env.vaultAddr },
      auth: { ...auth, secret_id_file: secretFile(env.tmpDir, 'stolen-secret-id', stolen) },
      registries: registries(),
    });
    const alarm = await victim.get(env.registry.host);
    expect(alarm.code).toBe(1);
    expect(alarm.stdout).toMatch(
      /The response-wrapping token for the AppRole secret_id is already used, expired or not a wrapping token/,
    );
    expect(alarm.stdout).toMatch(/possible interception/);
  });
});
