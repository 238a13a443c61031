// The host entry points' Vault logins (src/auth) against the real OpenBao: a Vault Agent token
// file, AppRole with a plain and a response-wrapped secret_id, a JWT file; each token then issues
// a credential the registry accepts. The configuration file's errors name the file and the key.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authMethod } from '../../src/auth/from-settings.js';
import { type Keeper, memoryKeeper } from '../../src/auth/method.js';
import { parseHostConfig } from '../../src/core/host-config.js';
import { issueCredential } from '../../src/core/issue.js';
import { createTransport } from '../../src/core/transport.js';
import { VaultClient } from '../../src/core/vault.js';
import { baoApi, makeAppRole, makeToken } from '../harness/approle.js';
import { startEnv, type TestEnv } from '../harness/index.js';
import { expectNoLeaks } from '../harness/leak.js';
import { expectNothingAlive } from './expect-clean.js';

let env: TestEnv;
let dir: string;
let n = 0;
const extraSecrets: string[] = [];
let printed = '';

beforeAll(async () => {
  env = await startEnv();
  dir = join(env.tmpDir, 'auth');
  mkdirSync(dir, { recursive: true });
});
afterEach(() => expectNothingAlive(env));
afterAll(async () => {
  if (!env) return;
  expectNoLeaks(printed, [...env.secrets(), ...extraSecrets]);
  await env.stop();
});

const file = (content: string) => {
  const p = join(dir, `f-${++n}`);
  writeFileSync(p, content, { mode: 0o600 });
  return p;
};

const client = () =>
  new VaultClient({
    url: env.vaultAddr,
    transport: createTransport(),
    retries: 1,
    deadline: Date.now() + 20_000,
  });

/** Parses a configuration document as a host entry point would. */
const hostConfig = (doc: unknown) =>
  parseHostConfig(
    doc,
    { VAULT_ADDR: env.vaultAddr },
    { file: '/etc/vdl.yml', label: 'test', registries: 'required' },
  );

const engineEntry = () => [
  { registry: env.registry.host, secret_path: `dockerhub/token/${env.fixtures.account}/read` },
];

/** Logs in with the `auth` section, issues the first registry's credential, revokes what it may. */
async function loginAndIssue(auth: Record<string, unknown>, keeper: Keeper = memoryKeeper()) {
  const cfg = await hostConfig({ auth, registries: engineEntry() });
  const method = authMethod(cfg.auth, { env: {}, keeper });
  const vault = client();
  const login = await method.login(vault, Date.now());
  const entry = cfg.entries[0];
  if (!entry) throw new Error('no entry');
  const cred = await issueCredential(
    vault,
    login.token,
    entry,
    cfg.connection,
    { mask() {} },
    Date.now,
  );
  const works = await env.registry.canLogin(cred.username, cred.secret);
  await vault.revokeLease(cred.leaseId ?? '', env.rootToken);
  if (login.revocable) await vault.revokeSelf(login.token);
  return { login, works, method };
}

describe('token file (Vault Agent sink)', () => {
  it('uses the token in the file, re-read each time, and never claims it is revocable', async () => {
    const token = await makeToken(env, ['dockerhub-rw']);
    extraSecrets.push(token);
    const path = file(`${token}\n`);
    const r = await loginAndIssue({ method: 'token_file', token_file: path });
    expect(r.works).toBe(true);
    expect(r.login).toMatchObject({ token, revocable: false });
    const next = await makeToken(env, ['dockerhub-rw']);
    extraSecrets.push(next);
    writeFileSync(path, next);
    expect((await r.method.login(client(), Date.now())).token).toBe(next);
  });

  it('names the file and the agent when the file is missing or empty', async () => {
    const missing = authMethod(
      { method: 'token_file', tokenFile: join(dir, 'nope') },
      {
        env: {},
        keeper: memoryKeeper(),
      },
    );
    await expect(missing.login(client(), Date.now())).rejects.toThrow(
      /Cannot read the Vault token file .*nope \(auth\.token_file\): ENOENT/,
    );
    const empty = authMethod(
      { method: 'token_file', tokenFile: file('') },
      {
        env: {},
        keeper: memoryKeeper(),
      },
    );
    await expect(empty.login(client(), Date.now())).rejects.toMatchObject({
      message: expect.stringMatching(/is empty/),
      hint: expect.stringMatching(/Vault Agent/),
    });
  });
});

describe('AppRole', () => {
  it('logs in with role_id and a plain secret_id; the token expires with its TTL', async () => {
    const role = await makeAppRole(env, 'pull-plain', ['dockerhub-rw']);
    const secretId = await role.secretId();
    extraSecrets.push(secretId);
    const r = await loginAndIssue({
      method: 'approle',
      role_id: role.roleId,
      secret_id_file: file(secretId),
    });
    expect(r.works).toBe(true);
    expect(r.login.revocable).toBe(true);
    expect(r.login.expiresAt).toBeGreaterThan(Date.now() + 9 * 60_000);
    expect(await env.vaultTokenAlive(r.login.token)).toBe(false);
  });

  it('unwraps a wrapped secret_id once, keeps it, and reports reuse as possible interception', async () => {
    const role = await makeAppRole(env, 'pull-wrapped', ['dockerhub-rw']);
    const wrap = await role.wrappedSecretId();
    extraSecrets.push(wrap);
    const auth = {
      method: 'approle',
      role_id_file: file(role.roleId),
      secret_id_file: file(wrap),
      secret_id_wrapped: true,
      role_name: 'pull-wrapped',
    };
    const keeper = memoryKeeper();
    const first = await loginAndIssue(auth, keeper);
    expect(first.works).toBe(true);
    // A second login (a later process sharing the keeper) needs no unwrap.
    const second = await loginAndIssue(auth, keeper);
    expect(second.works).toBe(true);
    // A process without the kept secret_id finds the wrapping token used.
    const err = await loginAndIssue(auth, memoryKeeper()).catch((e: unknown) => e);
    expect(err).toMatchObject({
      kind: 'wrapping',
      message: expect.stringMatching(/already used, expired or not a wrapping token/),
      hint: expect.stringMatching(/possible interception/),
    });
    printed += `${(err as Error).message}\n`;
  });

  it('refuses a token re-wrapped elsewhere, without using it', async () => {
    const role = await makeAppRole(env, 'pull-rewrapped', ['dockerhub-rw']);
    const secretId = await role.secretId();
    extraSecrets.push(secretId);
    const rewrapped = (
      (await baoApi(env, 'POST', 'sys/wrapping/wrap', { secret_id: secretId }, { wrapTtl: '60s' }))
        .wrap_info as { token: string }
    ).token;
    extraSecrets.push(rewrapped);
    const err = await loginAndIssue({
      method: 'approle',
      role_id: role.roleId,
      secret_id_file: file(rewrapped),
      secret_id_wrapped: true,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      kind: 'wrapping',
      message: expect.stringMatching(/created at "sys\/wrapping\/wrap", not at the expected path/),
    });
    // Still unused: the one it was meant for can unwrap it.
    await expect(
      baoApi(env, 'POST', 'sys/wrapping/lookup', { token: rewrapped }),
    ).resolves.toBeTruthy();
  });
});

describe('JWT file', () => {
  it('logs in with a JWT read from a file (a Nomad workload identity, a service account token)', async () => {
    const r = await loginAndIssue({
      method: 'jwt',
      mount: env.fixtures.githubMount,
      role: env.fixtures.github.role,
      jwt_file: file(env.issuer.githubToken()),
    });
    expect(r.works).toBe(true);
    expect(r.login.revocable).toBe(true);
  });

  it('says the JWT expired and who must refresh it', async () => {
    const err = await loginAndIssue({
      method: 'jwt',
      mount: env.fixtures.githubMount,
      role: env.fixtures.github.role,
      jwt_file: file(env.issuer.githubToken({ expiresIn: -120 })),
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'vault-login', hint: expect.stringMatching(/has expired/) });
    printed += `${(err as Error).message}\n${(err as { hint: string }).hint}\n`;
  });
});

describe('configuration file', () => {
  it.each([
    [{ vault: { adress: 'x' }, registries: [] }, /"vault\.adress": is not a known key/],
    [
      { auth: { method: 'kerberos' }, registries: [] },
      /"auth\.method": must be one of token, token_file, jwt, approle/,
    ],
    [
      { auth: { method: 'jwt' }, registries: [] },
      /"auth\.role": is required with auth\.method jwt/,
    ],
    [
      { auth: { method: 'approle', secret_id_file: '/x' }, registries: [] },
      /"auth\.role_id": or auth\.role_id_file is required/,
    ],
    [
      { vault: { timeout: 'soon' }, registries: [] },
      /"vault\.timeout": must be whole seconds or a duration such as 30, 30s/,
    ],
    [{ auth: { method: 'token' } }, /"registries": is required/],
    [{ registries: [{ registry: 'ghcr.io' }] }, /"registries\[0\]\.secret_path": is required/],
    [
      { auth: { method: 'jwt', role: 'a/b' }, registries: [] },
      /"auth\.role": must be a single name/,
    ],
  ])('%j is refused naming the file and key', async (doc, message) => {
    const err = await hostConfig(doc).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^Config file \/etc\/vdl\.yml: key "/);
    expect((err as Error).message).toMatch(message);
  });

  it('takes the Action input spellings and VAULT_* fallbacks', async () => {
    const cfg = await hostConfig({
      vault: { 'auth-namespace': 'ci', timeout: 5 },
      auth: { method: 'token_file', 'token-file': '/run/vault/token' },
      registries: [{ registry: 'https://index.docker.io/v1/', 'secret-path': 'secret/data/hub' }],
    });
    expect(cfg.connection).toMatchObject({
      url: env.vaultAddr,
      authNamespace: 'ci',
      timeoutMs: 5000,
    });
    expect(cfg.auth).toEqual({ method: 'token_file', tokenFile: '/run/vault/token' });
    expect(cfg.entries[0]).toMatchObject({ registry: 'docker.io', source: { method: 'read' } });
  });
});
