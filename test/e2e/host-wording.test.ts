// The host entry points speak in their configuration file's keys, never in the Action's inputs:
// an untrusted certificate names vault.ca_cert, an unavailable Vault vault.retries, a denied path
// the entry's secret_path, a 403 at a misspelt auth mount auth.mount (JWT and AppRole). Against
// the real OpenBao over HTTPS, through the credential helper and the kubelet provider as built.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeAppRole, makeToken } from '../harness/approle.js';
import { startEnv, type TestEnv } from '../harness/index.js';
import { runProvider, writeProviderConfig } from '../harness/kubelet-provider.js';
import { type HostKit, helperSuite, jwtAuth, secretFile } from './credential-helper-host.js';

let env: TestEnv;
let kit: HostKit;
let printed = '';
const ACTION_WORDS = /\b(input|inputs)\b|--[a-z]/;

const extraSecrets = helperSuite({
  start: () => startEnv({ tls: {} }),
  ready: (e, k) => {
    env = e;
    kit = k;
  },
  scan: () => printed,
});

let dir: string;
beforeAll(() => {
  dir = join(env.tmpDir, 'host-wording');
  mkdirSync(dir, { recursive: true });
});

const vault = (more: Record<string, unknown> = {}) => ({
  url: env.vaultAddr,
  ca_cert: env.tls?.caFile,
  ...more,
});
const entry = (account = env.fixtures.account) => [
  { registry: env.registry.host, secret_path: `${env.fixtures.engineMount}/token/${account}/read` },
];

describe('credential helper', () => {
  async function get(doc: Record<string, unknown>) {
    const r = await kit.host(doc).get(env.registry.host);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(ACTION_WORDS);
    return r.stdout;
  }

  it('an untrusted certificate names vault.ca_cert', async () => {
    const out = await get({
      vault: { url: env.vaultAddr, retries: 0 },
      auth: jwtAuth(env, dir),
      registries: entry(),
    });
    expect(out).toMatch(/is not trusted: set vault\.ca_cert or VAULT_CACERT to the CA/);
    expect(out).toMatch(/As the insecure last resort, set vault\.tls_skip_verify\./);
  });

  it('an unreadable CA file names vault.ca_cert', async () => {
    const out = await get({
      vault: vault({ ca_cert: join(dir, 'no-ca.pem') }),
      auth: jwtAuth(env, dir),
      registries: entry(),
    });
    expect(out).toMatch(
      /Cannot read VAULT_CACERT file .*no-ca\.pem \(vault\.ca_cert or VAULT_CACERT\)/,
    );
  });

  it('an unavailable Vault names vault.retries and vault.timeout', async () => {
    env.engine.faults.add({ path: /\/login$/, status: 503, times: 10 });
    const out = await get({
      vault: vault({ retries: 0 }),
      auth: jwtAuth(env, dir),
      registries: entry(),
    });
    expect(out).toMatch(/Vault is unavailable/);
    expect(out).toMatch(/Raise vault\.retries or vault\.timeout if this is passing/);
  });

  it("a denied account names the entry's secret_path", async () => {
    const out = await get({ vault: vault(), auth: jwtAuth(env, dir), registries: entry('nobody') });
    expect(out).toMatch(/Vault denied writing .*\/token\/nobody\/read \(403 permission denied\)/);
    expect(out).toMatch(/not "nobody": check registries\[0\]\.secret_path\./);
  });

  it('a JWT login at a misspelt mount names auth.mount', async () => {
    const out = await get({
      vault: vault(),
      auth: { ...jwtAuth(env, dir), mount: 'githbu' },
      registries: entry(),
    });
    expect(out).toMatch(/refused auth\/githbu\/login \(403 permission denied\)/);
    expect(out).toMatch(
      /No JWT auth method answers at auth\/githbu: set auth\.mount to the path where it is enabled/,
    );
    expect(out).toMatch(/vault\.url must not include \/v1/);
  });

  it('an AppRole login at a misspelt mount names auth.mount', async () => {
    const role = await makeAppRole(env, 'wording-pull', ['dockerhub-rw']);
    const secretId = await role.secretId();
    extraSecrets.push(secretId);
    const out = await get({
      vault: vault(),
      auth: {
        method: 'approle',
        mount: 'aprole',
        role_id: role.roleId,
        secret_id_file: secretFile(dir, 'secret-id', secretId),
      },
      registries: entry(),
    });
    expect(out).toMatch(
      /No AppRole auth method answers at auth\/aprole: set auth\.mount to the path where it is enabled \(the default is approle;/,
    );
  });
});

describe('kubelet provider', () => {
  let n = 0;
  async function provide(vaultSection: Record<string, unknown>, account?: string) {
    const token = await makeToken(env, ['dockerhub-rw'], '10m');
    extraSecrets.push(token);
    const tokenFile = join(dir, `token-${++n}`);
    writeFileSync(tokenFile, token, { mode: 0o600 });
    const cfg = writeProviderConfig(dir, {
      vault: vaultSection,
      auth: { method: 'token_file', token_file: tokenFile },
      registries: entry(account),
    });
    const r = await runProvider(env, cfg, { image: `${env.registry.host}/app` });
    printed += `${r.stdout}\n${r.stderr}\n`;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^vault-credential-provider: /);
    expect(r.stderr).not.toMatch(ACTION_WORDS);
    return r.stderr;
  }

  it('an untrusted certificate names vault.ca_cert', async () => {
    const err = await provide({ url: env.vaultAddr, retries: 0 });
    expect(err).toMatch(/is not trusted: set vault\.ca_cert or VAULT_CACERT/);
  });

  it('an unavailable Vault names vault.retries', async () => {
    env.engine.faults.add({
      path: new RegExp(`/${env.fixtures.engineMount}/token/`),
      status: 503,
      times: 10,
    });
    const err = await provide(vault({ retries: 0 }));
    expect(err).toMatch(/Raise vault\.retries or vault\.timeout/);
  });

  it("a denied account names the entry's secret_path", async () => {
    const err = await provide(vault(), 'nobody');
    expect(err).toMatch(/not "nobody": check registries\[0\]\.secret_path\./);
  });
});
