// The Swarm secrets driver (dist/swarm-driver/index.js) on its socket, spoken to as a Swarm manager
// does, against the real OpenBao, the engine stand-in and the real registry: every label
// combination, bad labels, Vault denied and down, its own Vault logins, SIGTERM, leaks.
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LABELS } from '../../src/swarm-driver/labels.js';
import { baoApi, makeAppRole, makeToken } from '../harness/approle.js';
import { docBlock } from '../harness/doc-blocks.js';
import { fixtures, startEnv, type TestEnv } from '../harness/index.js';
import { expectNoLeaks } from '../harness/leak.js';
import { freePort, run, startProcess, waitFor } from '../harness/procs.js';
import { expectNothingAlive } from './expect-clean.js';
import {
  authOf,
  callPlugin,
  DRIVER,
  DRIVER_POLICY,
  type DriverVault,
  driverConfig,
  prepareDriverVault,
  type RunningDriver,
  revokeLiveLeases,
  startDriver,
} from './swarm-driver-run.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let env: TestEnv;
let dir: string;
let driver: RunningDriver;
let tokenFile: string;
let driverTokenValue: string;
let kv: DriverVault['kv'];
const extraSecrets: string[] = [];
let printed = '';
let n = 0;

const POLICY = DRIVER_POLICY;

beforeAll(async () => {
  env = await startEnv();
  const v = await prepareDriverVault(env, 'swarm');
  ({ dir, kv, tokenFile } = v);
  driverTokenValue = v.token;
  extraSecrets.push(v.token, kv.password);
  driver = await startDriver(
    config('main', { socket: join(dir, 'main.sock') }),
    join(dir, 'main.sock'),
  );
});

afterEach(async () => {
  // The driver revokes nothing it cannot track: leases it handed out end here, by the root token.
  await revokeLiveLeases(env);
  env.engine.faults.clear();
  expectNothingAlive(env);
});

afterAll(async () => {
  if (!env) return;
  if (driver) {
    await driver.stop();
    printed += driver.output();
  }
  expectNoLeaks(printed, [...env.secrets(), ...extraSecrets]);
  await env.stop();
});

/** A driver configuration: token file auth unless `auth` says otherwise. */
function config(
  name: string,
  o: { socket: string; auth?: Record<string, unknown>; url?: string },
): string {
  return driverConfig(dir, name, {
    vault: { url: o.url ?? env.vaultAddr, timeout: 10, retries: 1 },
    auth: o.auth ?? { method: 'token_file', token_file: tokenFile },
    driver: { socket: o.socket },
  });
}

const engineRead = () => `${fixtures.engineMount}/token/${fixtures.account}/read`;
const decode = (v?: string) => Buffer.from(v ?? '', 'base64').toString('utf8');

describe('protocol', () => {
  it('activates as a secretprovider and answers only POSTs to its two methods', async () => {
    const a = await callPlugin(driver.socket, '/Plugin.Activate');
    expect(a).toMatchObject({ status: 200, body: { Implements: ['secretprovider'] } });
    expect(a.contentType).toBe('application/vnd.docker.plugins.v1.1+json');
    const other = await callPlugin(driver.socket, '/VolumeDriver.Create', {});
    expect(other.status).toBe(404);
    expect(other.body.Err).toMatch(/implements secretprovider only/);
  });

  it('makes the socket owner-only', async () => {
    expect(statSync(driver.socket).mode & 0o777).toBe(0o600);
  });
});

describe('what the task receives', () => {
  it('vault.field: the field of a KV v2 secret, shared by every task (DoNotReuse false)', async () => {
    const r = await driver.getSecret({
      'vault.path': 'secret/data/swarm/app',
      'vault.field': 'password',
    });
    expect(r.status).toBe(200);
    expect(decode(r.body.Value)).toBe(kv.password);
    expect(r.body.DoNotReuse).toBe(false);
    const port = await driver.getSecret({
      'vault.path': 'secret/data/swarm/app',
      'vault.field': 'port',
    });
    expect(decode(port.body.Value)).toBe('5432');
  });

  it('vault.registry on the engine: a config.json with a fresh leased token per task', async () => {
    const labels = { 'vault.path': engineRead(), 'vault.registry': env.registry.host };
    const [a, b] = [await driver.getSecret(labels), await driver.getSecret(labels)];
    for (const r of [a, b]) {
      expect(r.status).toBe(200);
      expect(r.body.DoNotReuse).toBe(true);
    }
    const first = authOf(decode(a.body.Value), env.registry.host);
    const second = authOf(decode(b.body.Value), env.registry.host);
    extraSecrets.push(first.secret, second.secret, decode(a.body.Value), decode(b.body.Value));
    expect(first.user).toBe(env.fixtures.account);
    expect(first.secret).not.toBe(second.secret);
    expect(env.engine.liveLeases()).toHaveLength(2);
    // Both live at once, as Docker Hub allows.
    expect(await env.registry.canLogin(first.user, first.secret)).toBe(true);
    expect(await env.registry.canLogin(second.user, second.secret)).toBe(true);
    // The log names the task, the path and the lease, never the value.
    for (const lease of env.engine.liveLeases())
      expect(driver.output()).toMatch(
        new RegExp(
          `info delivered .*task=web\\.\\d+\\.task\\d+ path=${engineRead()} method=write as=docker-config lease=${lease} lease_ttl=300s`,
        ),
      );
  });

  it('vault.registry on a static KV secret: a config.json every task may share', async () => {
    const r = await driver.getSecret({
      'vault.path': `${env.fixtures.kvMount}/data/${env.fixtures.kvPath}`,
      'vault.registry': env.registry.host,
    });
    expect(r.body.DoNotReuse).toBe(false);
    const { user, secret } = authOf(decode(r.body.Value), env.registry.host);
    expect(await env.registry.canLogin(user, secret)).toBe(true);
  });

  it('vault.registry=docker.io is keyed as docker login keys Docker Hub', async () => {
    const r = await driver.getSecret({ 'vault.path': engineRead(), 'vault.registry': 'docker.io' });
    extraSecrets.push(decode(r.body.Value));
    expect(Object.keys(JSON.parse(decode(r.body.Value)).auths)).toEqual([
      'https://index.docker.io/v1/',
    ]);
  });

  it('vault.wrap: a single-use wrapping token made at the secret path; a second unwrap fails', async () => {
    const r = await driver.getSecret({ 'vault.path': 'secret/data/swarm/app', 'vault.wrap': '2m' });
    expect(r.body.DoNotReuse).toBe(true);
    const wrap = decode(r.body.Value);
    extraSecrets.push(wrap);
    const look = await baoApi(env, 'POST', 'sys/wrapping/lookup', { token: wrap });
    expect(look.data).toMatchObject({ creation_path: 'secret/data/swarm/app', creation_ttl: 120 });
    const once = await fetch(`${env.baoAddr}/v1/sys/wrapping/unwrap`, {
      method: 'POST',
      headers: { 'X-Vault-Token': wrap },
    });
    expect(((await once.json()) as { data: { data: typeof kv } }).data.data).toEqual(kv);
    const twice = await fetch(`${env.baoAddr}/v1/sys/wrapping/unwrap`, {
      method: 'POST',
      headers: { 'X-Vault-Token': wrap },
    });
    expect(twice.status).toBe(400);
    expect(driver.output()).toMatch(/info delivered .*as=wrapped wrap_accessor=\S+ wrap_ttl=120s/);
  });

  it('vault.wrap on the engine: a wrapped leased token, unwrapped once by the task', async () => {
    const r = await driver.getSecret({ 'vault.path': engineRead(), 'vault.wrap': '90s' });
    expect(r.body.DoNotReuse).toBe(true);
    const wrap = decode(r.body.Value);
    extraSecrets.push(wrap);
    // The task's side, in Vault's recommended order: look up, check the creation path, unwrap.
    const look = await fetch(`${env.vaultAddr}/v1/sys/wrapping/lookup`, {
      method: 'POST',
      body: JSON.stringify({ token: wrap }),
    });
    expect(((await look.json()) as { data: { creation_path: string } }).data.creation_path).toBe(
      engineRead(),
    );
    const unwrap = () =>
      fetch(`${env.vaultAddr}/v1/sys/wrapping/unwrap`, {
        method: 'POST',
        headers: { 'X-Vault-Token': wrap },
      });
    const once = (await (await unwrap()).json()) as {
      lease_id: string;
      data: { token: string; username: string };
    };
    expect(env.engine.liveLeases()).toEqual([once.lease_id]);
    expect(await env.registry.canLogin(once.data.username, once.data.token)).toBe(true);
    const twice = await unwrap();
    expect(twice.status).toBe(400);
    expect(await twice.text()).toMatch(/wrapping token is not valid or does not exist/);
  });
});

describe('refusals name the label and the accepted form', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      'an unknown vault.* key',
      { 'vault.path': 'secret/data/swarm/app', 'vault.feild': 'x' },
      /Secret label "vault\.feild": is not a label this driver knows; expected one of vault\.path, vault\.method,/,
    ],
    [
      'a path with ".."',
      { 'vault.path': 'secret/data/../sys/x', 'vault.field': 'password' },
      /Secret label "vault\.path": must not contain "\." or "\.\." segments; expected letters, digits/,
    ],
    [
      'no path',
      { 'vault.field': 'password' },
      /Secret label "vault\.path": is required: a Vault path such as/,
    ],
    [
      'no field, registry or wrap',
      { 'vault.path': 'secret/data/swarm/app' },
      /Secret label "vault\.field": is missing: set one of vault\.field=<name> .*vault\.registry=<host> .*vault\.wrap=<ttl>/,
    ],
    [
      'wrap with a field',
      { 'vault.path': 'secret/data/swarm/app', 'vault.field': 'password', 'vault.wrap': '1m' },
      /Secret label "vault\.wrap": cannot be combined with vault\.field/,
    ],
    [
      'a bad wrap TTL',
      { 'vault.path': 'secret/data/swarm/app', 'vault.wrap': 'soon' },
      /Secret label "vault\.wrap": must be a TTL such as 90s, 5m or 1h/,
    ],
    [
      'a bad method',
      {
        'vault.path': 'secret/data/swarm/app',
        'vault.field': 'password',
        'vault.method': 'delete',
      },
      /Secret label "vault\.method": must be read or write; got "delete"/,
    ],
    [
      'a body that is not JSON',
      { 'vault.path': engineRead(), 'vault.registry': 'docker.io', 'vault.body': '{label' },
      /Secret label "vault\.body": must be a JSON object/,
    ],
    [
      'a bad registry',
      { 'vault.path': engineRead(), 'vault.registry': 'https://u:p@x' },
      /Secret label "vault\.registry": must be a registry host such as ghcr\.io/,
    ],
  ];
  for (const [what, labels, message] of cases)
    it(`refuses ${what}`, async () => {
      const r = await driver.getSecret(labels);
      expect(r.status).toBe(500);
      expect(r.body.Value).toBeUndefined();
      expect(r.body.Err).toMatch(/^secret "app-secret": /);
      expect(r.body.Err).toMatch(message);
      expect(env.engine.liveLeases()).toEqual([]);
    });

  it('ignores labels outside its prefix (the operator’s own)', async () => {
    const r = await driver.getSecret({
      'vault.path': 'secret/data/swarm/app',
      'vault.field': 'password',
      'com.acme.team': 'payments',
    });
    expect(r.status).toBe(200);
  });

  it('a missing field names the fields present, and the lease it made is revoked at once', async () => {
    const r = await driver.getSecret({ 'vault.path': engineRead(), 'vault.field': 'password' });
    expect(r.body.Err).toMatch(
      /has no non-empty field "password" \(vault\.field\); fields present: token, uuid, username, scope\. Set vault\.field to one of them\./,
    );
    // The driver could track that one: it gave it back rather than leave it to its TTL.
    expect(env.engine.liveLeases()).toEqual([]);
    expect(driver.output()).toMatch(/info undelivered lease lease=\S+ revoke=revoked/);
  });
});

describe('Vault denied or down: Err names the fix', () => {
  it('a path the policy does not grant: the policy stanza to add', async () => {
    const r = await driver.getSecret({
      'vault.path': 'secret/data/other/db',
      'vault.field': 'password',
    });
    expect(r.body.Err).toMatch(
      /Vault denied reading secret\/data\/other\/db \(403\)\. The driver's policy must allow it: path "secret\/data\/other\/db" \{ capabilities = \["read"\] \}/,
    );
  });

  it('Vault sealed (503): unavailable, with the retries spent', async () => {
    env.engine.faults.add({ path: '/v1/secret/data/swarm/app', status: 503, times: 5 });
    const r = await driver.getSecret({
      'vault.path': 'secret/data/swarm/app',
      'vault.field': 'password',
    });
    expect(r.body.Err).toMatch(
      /Vault at http:\/\/127\.0\.0\.1:\d+ is unavailable \(HTTP 503: Vault is sealed\) after 1 retries within 10 s\. Check Vault's health \(sealed, rate-limited, a standby behind\), or raise vault\.retries or vault\.timeout if this is passing; Swarm retries the task\./,
    );
  });

  it('Vault unreachable: names the address', async () => {
    const port = await freePort();
    const socket = join(dir, 'down.sock');
    const down = await startDriver(
      config('down', { socket, url: `http://127.0.0.1:${port}` }),
      socket,
    );
    const r = await down.getSecret({
      'vault.path': 'secret/data/swarm/app',
      'vault.field': 'password',
    });
    expect(await down.stop()).toBe(0);
    printed += down.output();
    expect(r.body.Err).toMatch(
      new RegExp(
        `Cannot reach Vault at http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.* Swarm retries the task\\.`,
      ),
    );
    expect(down.output()).toMatch(
      /error refused secret=app-secret service=web task=web\.1\.task1 path=secret\/data\/swarm\/app error=/,
    );
  });

  it('re-reads the token file on every request; an invalid token is named as such', async () => {
    const revoked = await makeToken(env, [POLICY]);
    extraSecrets.push(revoked);
    await baoApi(env, 'POST', 'auth/token/revoke', { token: revoked });
    writeFileSync(tokenFile, revoked);
    const r = await driver.getSecret({
      'vault.path': 'secret/data/swarm/app',
      'vault.field': 'password',
    });
    expect(r.body.Err).toMatch(
      /The driver's Vault token \(token file .*agent-token\) is invalid or expired: Vault refused it on auth\/token\/lookup-self\. With a token file, check that Vault Agent is running/,
    );
    writeFileSync(tokenFile, driverTokenValue);
    const ok = await driver.getSecret({
      'vault.path': 'secret/data/swarm/app',
      'vault.field': 'password',
    });
    expect(decode(ok.body.Value)).toBe(kv.password);
  });
});

describe('its own Vault login', () => {
  it('AppRole with a wrapped secret_id: unwrapped once, kept in auth.state_dir so a restart (SIGTERM or SIGKILL) serves again; a token someone else used stops it as a possible interception', async () => {
    const role = await makeAppRole(env, 'swarm-driver', [POLICY]);
    const wrap = await role.wrappedSecretId('5m');
    extraSecrets.push(wrap);
    const stateDir = join(dir, 'driver-state');
    const auth = {
      method: 'approle',
      role_id: role.roleId,
      secret_id_file: join(dir, 'secret-id'),
      secret_id_wrapped: true,
      role_name: role.name,
      state_dir: stateDir,
    };
    writeFileSync(auth.secret_id_file, wrap, { mode: 0o600 });
    const socket = join(dir, 'approle.sock');
    const labels = { 'vault.path': engineRead(), 'vault.registry': env.registry.host };
    const d = await startDriver(config('approle', { socket, auth }), socket);
    const r = await d.getSecret(labels);
    const { user, secret } = authOf(decode(r.body.Value), env.registry.host);
    extraSecrets.push(secret, decode(r.body.Value));
    expect(await env.registry.canLogin(user, secret)).toBe(true);
    expect(await d.stop()).toBe(0);
    printed += d.output();
    // Stopping revoked nothing: the task's credential lives on to its TTL.
    expect(env.engine.liveLeases()).toHaveLength(1);
    expect(await env.registry.canLogin(user, secret)).toBe(true);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);

    // Restarted with the same (used) wrapping token, after a clean stop and after SIGKILL: it logs
    // in with the kept secret_id. The time from start to the first good answer is reported.
    const unwraps = () =>
      env.engine.requests.filter((q) => q.path === '/v1/sys/wrapping/unwrap').length;
    const before = unwraps();
    for (const how of ['after SIGTERM', 'after SIGKILL'] as const) {
      const t0 = Date.now();
      const again = await startDriver(config('approle', { socket, auth }), socket);
      const a = await again.getSecret(labels);
      const ms = Date.now() - t0;
      expect(a.body.Err, again.output()).toBeUndefined();
      const cred = authOf(decode(a.body.Value), env.registry.host);
      extraSecrets.push(cred.secret, decode(a.body.Value));
      expect(await env.registry.canLogin(cred.user, cred.secret)).toBe(true);
      console.info(`swarm driver restart ${how}: first good answer ${ms} ms after start`);
      if (how === 'after SIGTERM') {
        again.proc.child.kill('SIGKILL');
        await new Promise((res) => again.proc.child.once('exit', res));
        printed += again.output();
      } else {
        expect(await again.stop()).toBe(0);
        printed += again.output();
      }
    }
    expect(unwraps()).toBe(before);

    // A wrapping token someone else unwrapped: nothing of ours keeps its secret_id.
    const stolen = await role.wrappedSecretId('5m');
    extraSecrets.push(stolen);
    const taken = await baoApi(env, 'POST', 'sys/wrapping/unwrap', undefined, { token: stolen });
    extraSecrets.push((taken.data as { secret_id: string }).secret_id);
    writeFileSync(auth.secret_id_file, stolen, { mode: 0o600 });
    const alarm = await run(process.execPath, [
      DRIVER,
      '--config',
      config('approle', { socket, auth }),
    ]);
    printed += alarm.stderr;
    expect(alarm.code).toBe(3);
    expect(alarm.stderr).toMatch(
      /already used, expired or not a wrapping token.*possible interception/,
    );
    expect(existsSync(socket)).toBe(false);
  });
});

describe('several managers', () => {
  it('each manager with its own wrapped secret_id serves; a token copied from another manager is reported', async () => {
    const role = await makeAppRole(env, 'swarm-managers', [POLICY]);
    /** A manager: its own secret_id file and state directory (its own host), same role. */
    const manager = (name: string, wrap: string) => {
      const secretIdFile = join(dir, `${name}-secret-id`);
      writeFileSync(secretIdFile, wrap, { mode: 0o600 });
      const socket = join(dir, `${name}.sock`);
      const auth = {
        method: 'approle',
        role_id: role.roleId,
        secret_id_file: secretIdFile,
        secret_id_wrapped: true,
        role_name: role.name,
        state_dir: join(dir, `${name}-state`),
      };
      return { socket, file: config(name, { socket, auth }) };
    };
    const wraps = [await role.wrappedSecretId('5m'), await role.wrappedSecretId('5m')];
    extraSecrets.push(...wraps);
    const [a, b] = [manager('manager-a', wraps[0] ?? ''), manager('manager-b', wraps[1] ?? '')];
    const drivers = [await startDriver(a.file, a.socket), await startDriver(b.file, b.socket)];
    for (const d of drivers) {
      const r = await d.getSecret({
        'vault.path': 'secret/data/swarm/app',
        'vault.field': 'password',
      });
      expect(r.body.Err, d.output()).toBeUndefined();
      expect(decode(r.body.Value)).toBe(kv.password);
      expect(await d.stop()).toBe(0);
      printed += d.output();
    }
    // The same configuration, with manager a's (used) token, on a third manager.
    const copied = manager('manager-c', wraps[0] ?? '');
    const c = await run(process.execPath, [DRIVER, '--config', copied.file]);
    printed += c.stderr;
    expect(c.code).toBe(3);
    expect(c.stderr).toMatch(
      /already used, expired or not a wrapping token.*possible interception/,
    );
  });
});

describe('process', () => {
  it('SIGTERM: exits 0 and removes its socket', async () => {
    const socket = join(dir, `term-${++n}.sock`);
    const d = await startDriver(config(`term-${n}`, { socket }), socket);
    expect(existsSync(socket)).toBe(true);
    expect(await d.stop()).toBe(0);
    printed += d.output();
    expect(existsSync(socket)).toBe(false);
    expect(d.output()).toMatch(/info stopping signal=SIGTERM\ninfo stopped/);
  });

  it('replaces a stale socket, refuses a live one', async () => {
    const socket = join(dir, `stale-${++n}.sock`);
    // A socket file nobody listens on, as a crash leaves it.
    const bound = await run('python3', [
      '-c',
      'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])',
      socket,
    ]);
    expect(bound.code).toBe(0);
    expect(existsSync(socket)).toBe(true);
    const d = await startDriver(config(`stale-${n}`, { socket }), socket);
    try {
      const second = await run(process.execPath, [
        DRIVER,
        '--config',
        config(`stale-${n}`, { socket }),
      ]);
      printed += second.stderr;
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(
        /Another process already serves .*stale-\d+\.sock \(driver\.socket\)/,
      );
      // The first still serves.
      expect((await callPlugin(socket, '/Plugin.Activate')).status).toBe(200);
    } finally {
      expect(await d.stop()).toBe(0);
      printed += d.output();
    }
  });

  it('a bad configuration names the file and the key', async () => {
    const file = driverConfig(dir, 'bad', {
      vault: { url: env.vaultAddr },
      auth: { method: 'token_file', token_file: tokenFile },
      driver: { sock: '/x' },
    });
    const r = await run(process.execPath, [DRIVER, '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /Config file .*bad\.yml: key "driver\.sock": is not a known key; expected socket\./,
    );
    const reg = driverConfig(dir, 'reg', {
      vault: { url: env.vaultAddr },
      auth: { method: 'token_file', token_file: tokenFile },
      registries: [{ registry: 'ghcr.io', secret_path: 'x' }],
    });
    const r2 = await run(process.execPath, [DRIVER, '--config', reg]);
    expect(r2.stderr).toMatch(/key "registries": is not used by the Swarm driver/);
  });
});

describe('docs/swarm-driver.md', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'swarm-driver.md'), 'utf8');

  it('documents every label the driver knows, and no other', () => {
    const section = /## Create secrets[\s\S]*?Exactly one of/.exec(doc)?.[0] ?? '';
    const table = [...section.matchAll(/^\| `(vault\.[a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(table).toEqual(Object.keys(LABELS));
  });

  it("its configuration and its unit's ExecStart start the driver", async () => {
    const yaml = /### Configure[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    const socket = join(dir, 'docs.sock');
    const file = join(dir, 'docs.yml');
    writeFileSync(
      file,
      yaml
        .replace('https://vault.example.com:8200', env.vaultAddr)
        .replace('/run/vault-agent/token', tokenFile)
        .replace('/run/docker/plugins/vault-swarm-secrets.sock', socket),
    );
    const exec = /^ExecStart=(.*)$/m.exec(doc)?.[1] ?? '';
    const [node, script, ...args] = exec
      .replace('/usr/bin/node', process.execPath)
      .replace('/usr/local/lib/vault-docker-login/', `${join(ROOT, 'dist')}/`)
      .replace('/etc/vault-docker-login/swarm-driver.yml', file)
      .split(' ');
    expect(node).toBe(process.execPath);
    expect(script).toBe(DRIVER);
    const proc = startProcess(node ?? '', [script ?? '', ...args], { PATH: process.env.PATH });
    try {
      await waitFor(
        'the driver from the docs',
        async () =>
          /info serving plugin=docs/.test(proc.output()) &&
          (await callPlugin(socket, '/Plugin.Activate')).status === 200,
        proc,
      );
    } finally {
      await proc.stop();
      printed += proc.output();
    }
    expect(proc.output()).toMatch(/info serving plugin=docs socket=\S+docs\.sock/);
  });

  it('its AppRole snippet (run with the vault CLI) makes a role the documented approle config serves with', async () => {
    const etc = join(dir, 'docs-etc');
    const shims = join(dir, 'docs-shims');
    mkdirSync(etc);
    mkdirSync(shims);
    // The docs say `vault`; OpenBao's CLI takes the same commands.
    writeFileSync(join(shims, 'vault'), '#!/bin/sh\nexec bao "$@"\n');
    chmodSync(join(shims, 'vault'), 0o755);
    const snippet = docBlock(join(ROOT, 'docs', 'swarm-driver.md'), 'swarm-driver-approle', {
      acmebot: fixtures.account,
    });
    const sh = await run('bash', ['--norc', '--noprofile', '-euo', 'pipefail', '-c', snippet], {
      cwd: etc,
      env: {
        PATH: `${shims}:${process.env.PATH}`,
        HOME: etc,
        VAULT_ADDR: env.baoAddr,
        VAULT_TOKEN: env.rootToken,
      },
    });
    printed += `${sh.stdout}${sh.stderr}`;
    expect(sh.code, sh.stderr).toBe(0);
    const wrap = readFileSync(join(etc, 'secret-id'), 'utf8').trim();
    extraSecrets.push(wrap);
    expect(wrap).toMatch(/^(hvs|s)\./);

    // The page's AppRole auth block (indented under its list item), its paths on this host.
    const yaml = /\*\*AppRole\*\*[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    const auth = (parse(yaml.replace(/^ {2}/gm, '')) as { auth: Record<string, unknown> }).auth;
    expect(auth).toMatchObject({ method: 'approle', role_name: 'swarm-driver' });
    auth.role_id_file = join(etc, 'role-id');
    auth.secret_id_file = join(etc, 'secret-id');
    auth.state_dir = join(dir, 'docs-state');
    const socket = join(dir, 'docs-approle.sock');
    const d = await startDriver(config('docs-approle', { socket, auth }), socket);
    try {
      const labels = { 'vault.path': engineRead(), 'vault.registry': env.registry.host };
      const r = await d.getSecret(labels);
      expect(r.body.Err, d.output()).toBeUndefined();
      const { user, secret } = authOf(decode(r.body.Value), env.registry.host);
      extraSecrets.push(secret, decode(r.body.Value));
      expect(await env.registry.canLogin(user, secret)).toBe(true);
      // The policy holds the driver to its account: another account's path is denied.
      const other = await d.getSecret({
        'vault.path': `${fixtures.engineMount}/token/someone/read`,
      });
      expect(other.body.Err).toBeTruthy();
    } finally {
      expect(await d.stop()).toBe(0);
      printed += d.output();
    }
  });
});
