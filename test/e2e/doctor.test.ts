// `doctor` on the three host entry points, against the real OpenBao and registry: a working setup
// and five broken ones. docs/credential-helper.md shows these reports; each block there must be
// what the doctor prints here, with the test environment's names swapped for the docs' examples.
import { chownSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeHelperConfig } from '../harness/credential-helper.js';
import { startEnv, type TestEnv } from '../harness/index.js';
import { run } from '../harness/procs.js';
import {
  enginePath,
  type HostKit,
  helperSuite,
  jwtAuth,
  revokeAllLeases,
  secretFile,
} from './credential-helper-host.js';
import { docOutputs } from './doctor-docs.js';

let env: TestEnv;
let kit: HostKit;
let logs = '';
helperSuite({
  start: () => startEnv(),
  ready: (e, k) => {
    env = e;
    kit = k;
  },
  // The debug logs are scanned for every secret too.
  scan: () => logs,
});

const port = () => Number(env.registry.host.split(':')[1]);

/** A helper host whose docker config.json has these credHelpers; `vault`/`registries` overridable. */
function helperHost(credHelpers: Record<string, string>, over: Record<string, unknown> = {}) {
  const h = kit.host({
    vault: { url: env.vaultAddr },
    auth: jwtAuth(env, env.tmpDir),
    registries: [{ registry: env.registry.host, secret_path: enginePath(env) }],
    ...over,
  });
  mkdirSync(join(h.dir, '.docker'), { recursive: true });
  writeFileSync(join(h.dir, '.docker', 'config.json'), JSON.stringify({ credHelpers }));
  return h;
}

/** The report with this run's names replaced by the docs' examples. */
function asDocs(text: string, h: { dir: string; config: string; cacheDir: string }): string {
  const swaps: [string, string][] = [
    [h.cacheDir, '/run/user/1000/vault-docker-login-1000'],
    [join(h.dir, '.docker'), '/home/ci/.docker'],
    [h.config, '/home/ci/.config/vault-docker-login/config.yml'],
    [kit.path.split(':')[0] ?? '', '/usr/local/bin'],
    [env.vaultAddr, 'https://vault.example.com:8200'],
    [`127.0.0.1:${port() + 1}`, 'registry.example.com:5001'],
    [env.registry.host, 'registry.example.com:5000'],
    [join(h.dir, 'tmp'), '/tmp'],
    [`vault-docker-login-${process.getuid?.() ?? 0}`, 'vault-docker-login-1000'],
    [env.tmpDir, '/home/ci'],
    [env.fixtures.account, 'myorg-bot'],
    [`(uid ${process.getuid?.() ?? 0})`, '(uid 1000)'],
  ];
  let out = text;
  for (const [from, to] of swaps) out = out.split(from).join(to);
  return out.replace(/\/home\/ci\/jwt-[a-z0-9]+/g, '/home/ci/jwt');
}

async function doctor(h: ReturnType<typeof helperHost>) {
  const r = await h.call('doctor', '');
  return { ...r, report: asDocs(r.stdout, h) };
}

it('a working setup: every check passes and the doctor leaves no token or lease alive', async () => {
  const h = helperHost({ [env.registry.host]: 'vault' });
  const r = await doctor(h);
  expect(r.code, r.stdout).toBe(0);
  expect(r.stdout).toMatch(/No problems found\./);
  expect(r.report).toBe(docOutputs().working);
  expect(env.engine.liveLeases()).toEqual([]);
});

it('1. a credHelpers key with a scheme is never looked up by docker', async () => {
  const h = helperHost({ [`https://${env.registry.host}`]: 'vault' });
  const r = await doctor(h);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/never looked up: docker asks for exactly/);
  expect(r.report).toBe(docOutputs().scheme);
});

it('2. a credHelpers key with another port', async () => {
  const h = helperHost({ [`127.0.0.1:${port() + 1}`]: 'vault' });
  const r = await doctor(h);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/names another port/);
  expect(r.stdout).toMatch(/WARN {2}credHelpers key/);
  expect(r.report).toBe(docOutputs().port);
});

it('3. a path the policy does not allow (a misspelt account)', async () => {
  const h = helperHost(
    { [env.registry.host]: 'vault' },
    {
      registries: [
        {
          registry: env.registry.host,
          secret_path: `${env.fixtures.engineMount}/token/${env.fixtures.account}x/read`,
        },
      ],
    },
  );
  const r = await doctor(h);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/create on .*x\/read is not allowed/);
  expect(r.report).toBe(docOutputs().policy);
});

it('4. Vault cannot be reached', async () => {
  const h = helperHost(
    { [env.registry.host]: 'vault' },
    { vault: { url: 'http://127.0.0.1:9', timeout: 3 } },
  );
  const r = await doctor(h);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/FAIL {2}vault reachable: Cannot reach http:\/\/127\.0\.0\.1:9/);
  expect(asDocs(r.stdout, h).replace('http://127.0.0.1:9', 'https://vault.example.com:8200')).toBe(
    docOutputs().unreachable,
  );
});

it('5. a cache directory someone else made first', async () => {
  const h = helperHost({ [env.registry.host]: 'vault' });
  h.env.TMPDIR = join(h.dir, 'tmp');
  mkdirSync(h.cacheDir, { recursive: true, mode: 0o700 });
  chownSync(h.cacheDir, 65534, 65534);
  const r = await doctor(h);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/WARN {2}cache directory: .* belongs to uid 65534.*: it is skipped/);
  expect(r.report).toBe(docOutputs().impostor);
});

it('the kubelet provider and the Swarm driver: config, state, Vault login', async () => {
  const dir = join(env.tmpDir, 'doctor-hosts');
  const tokenFile = secretFile(env.tmpDir, 'doctor-token', env.rootToken);
  const provider = writeHelperConfig(join(dir, 'kubelet.yml'), {
    vault: { url: env.vaultAddr },
    auth: { method: 'token_file', token_file: tokenFile },
    registries: [{ registry: env.registry.host, secret_path: enginePath(env) }],
  });
  const p = await run('node', ['dist/kubelet-provider/index.js', 'doctor', '--config', provider], {
    input: '',
  });
  expect(p.code, p.stdout + p.stderr).toBe(0);
  expect(p.stdout).toMatch(/ok {4}vault login: token file .* works/);
  expect(p.stdout).toMatch(/ok {4}policy for registry 127\.0\.0\.1:\d+: create on/);

  const driver = writeHelperConfig(join(dir, 'swarm.yml'), {
    vault: { url: env.vaultAddr },
    auth: {
      method: 'approle',
      mount: 'approle',
      role_id: 'x',
      secret_id_file: tokenFile,
      secret_id_wrapped: true,
    },
    driver: { socket: join(dir, 'plugins', 'vault-swarm-secrets.sock') },
  });
  const d = await run('node', ['dist/swarm-driver/index.js', 'doctor', '--config', driver], {
    input: '',
  });
  expect(d.code, d.stdout + d.stderr).toBe(0);
  expect(d.stdout).toMatch(/skip {2}vault login: auth\.secret_id_wrapped is on/);
  expect(d.stdout).toMatch(/WARN {2}socket: .* does not exist/);
});

describe('the debug log (VAULT_DOCKER_LOGIN_DEBUG_LOG)', () => {
  it('the helper: a line per answer with the lease id and timings, never a secret', async () => {
    const h = helperHost({ [env.registry.host]: 'vault' });
    const log = join(h.dir, 'debug.log');
    const withLog = { ...h.env, VAULT_DOCKER_LOGIN_DEBUG_LOG: log };
    for (let i = 0; i < 2; i++)
      expect((await h.call('get', env.registry.host, withLog)).code).toBe(0);
    expect((await h.call('erase', env.registry.host, withLog)).code).toBe(0);
    const text = readFileSync(log, 'utf8');
    logs += text;
    const lines = text.trim().split('\n');
    expect(lines.map((l) => l.split(' ')[2])).toEqual(['lease', 'get', 'get', 'erase']);
    expect(lines[0]).toMatch(
      new RegExp(
        `docker-credential-vault\\[\\d+\\] lease ms=\\d+ registry=${env.registry.host} answer=minted lease=${env.fixtures.engineMount}/token/\\S+ ttl_s=\\d+ cache_s=\\d+$`,
      ),
    );
    expect(lines[2]).toMatch(/ get ms=\d+ registry=\S+ answer=hit lease=\S+$/);
  });

  it('a log path that is a symlink is not written through', async () => {
    const h = helperHost({ [env.registry.host]: 'vault' });
    const target = join(h.dir, 'elsewhere');
    writeFileSync(target, '');
    symlinkSync(target, join(h.dir, 'debug.log'));
    const r = await h.call('get', 'ghcr.io', {
      ...h.env,
      VAULT_DOCKER_LOGIN_DEBUG_LOG: join(h.dir, 'debug.log'),
    });
    expect(r.code).toBe(1);
    expect(readFileSync(target, 'utf8')).toBe('');
  });

  it('the kubelet provider: the image, its lease and the cache the kubelet was given', async () => {
    const dir = join(env.tmpDir, 'debug-provider');
    const log = join(dir, 'debug.log');
    const config = writeHelperConfig(join(dir, 'kubelet.yml'), {
      vault: { url: env.vaultAddr },
      auth: {
        method: 'token_file',
        token_file: secretFile(env.tmpDir, 'debug-token', env.rootToken),
      },
      registries: [{ registry: env.registry.host, secret_path: enginePath(env) }],
    });
    const request = JSON.stringify({
      apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
      kind: 'CredentialProviderRequest',
      image: `${env.registry.host}/app:1`,
    });
    const r = await run('node', ['dist/kubelet-provider/index.js', '--config', config], {
      input: request,
      env: { ...process.env, VAULT_DOCKER_LOGIN_DEBUG_LOG: log },
    });
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(log, 'utf8');
    logs += text;
    expect(text).toMatch(
      /vault-credential-provider\[\d+\] provide ms=\d+ image=127\.0\.0\.1:\d+\/app:1 registry=\S+ lease=\S+ answer=Registry cache_s=\d+\n$/,
    );
    await revokeAllLeases(env);
  });
});
