// The credential helper's cache against the real OpenBao, engine stand-in and registry: one lease
// reused until shortly before it ends, 20 concurrent gets minting one lease, an ended lease
// replaced, an edited configuration noticed, the cache file private and the only place a secret is
// written, a stale lock recovered, and erase with a borrowed token.

import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTime } from '../../src/credential-helper/lock.js';
import { makeToken } from '../harness/approle.js';
import { startEnv, type TestEnv } from '../harness/index.js';
import { waitFor } from '../harness/procs.js';
import {
  enginePath,
  type Host,
  type HostKit,
  helperSuite,
  jwtAuth,
  leaseWrites,
  revokeAllLeases,
} from './credential-helper-host.js';

let env: TestEnv;
let kit: HostKit;

const extraSecrets = helperSuite({
  start: () => startEnv(),
  ready: (e, k) => {
    env = e;
    kit = k;
  },
  // No file but the cache holds a secret (the JWT files the tests wrote excepted).
  scan: () => filesOutsideCache(env.tmpDir),
});

/** Every file under the hosts' directories but the caches and the JWT files, concatenated. */
function filesOutsideCache(dir: string): string {
  let text = '';
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const p = join(e.parentPath, e.name);
    if (!e.isFile() || !/\/host-\d+\//.test(p)) continue;
    if (/credential-helper-[0-9a-f]+\.json$/.test(e.name)) continue;
    text += `${readFileSync(p, 'utf8')}\n`;
  }
  return text;
}

const engineHost = (extra: Record<string, unknown> = {}) =>
  kit.host({
    vault: { url: env.vaultAddr },
    auth: jwtAuth(env, env.tmpDir),
    registries: [{ registry: env.registry.host, secret_path: enginePath(env) }],
    ...extra,
  });

const cred = (stdout: string) => JSON.parse(stdout) as { Username: string; Secret: string };

async function getOk(h: Host) {
  const r = await h.get(env.registry.host);
  expect(r.code, r.stdout).toBe(0);
  return cred(r.stdout);
}

describe('reuse', () => {
  it('mints one lease and serves every later get from the cache without asking Vault', async () => {
    const h = engineHost();
    const leases = leaseWrites(env);
    const first = await getOk(h);
    const requests = env.engine.requests.length;
    for (let i = 0; i < 4; i++) expect(await getOk(h)).toEqual(first);
    expect(env.engine.requests.length).toBe(requests);
    expect(leaseWrites(env) - leases).toBe(1);
    await h.erase(env.registry.host);
  });

  it('20 concurrent gets mint exactly one lease and all answer the same working credential', async () => {
    const h = engineHost();
    const leases = leaseWrites(env);
    const logins = env.engine.requests.filter((r) => r.path.endsWith('/login')).length;
    const answers = await Promise.all(Array.from({ length: 20 }, () => h.get(env.registry.host)));
    for (const a of answers) expect(a.code, a.stdout).toBe(0);
    expect(new Set(answers.map((a) => a.stdout)).size).toBe(1);
    expect(leaseWrites(env) - leases).toBe(1);
    expect(env.engine.requests.filter((r) => r.path.endsWith('/login')).length - logins).toBe(1);
    expect(env.engine.liveLeases()).toHaveLength(1);
    const c = cred(answers[0]?.stdout ?? '');
    expect(await env.registry.canLogin(c.Username, c.Secret)).toBe(true);
    await h.erase(env.registry.host);
    expect(await env.registry.canLogin(c.Username, c.Secret)).toBe(false);
  });

  it('shares one Vault login between registries', async () => {
    const fx = env.fixtures;
    const h = kit.host({
      vault: { url: env.vaultAddr },
      auth: jwtAuth(env, env.tmpDir),
      registries: [
        { registry: env.registry.host, secret_path: enginePath(env) },
        { registry: 'registry.example.test', secret_path: `${fx.kvMount}/data/${fx.kvPath}` },
      ],
    });
    const logins = () => env.engine.requests.filter((r) => r.path.endsWith('/login')).length;
    const before = logins();
    await getOk(h);
    expect((await h.get('registry.example.test')).code).toBe(0);
    expect(logins() - before).toBe(1);
    // Erasing one revokes the token, whose leases die with it: the other is forgotten as well.
    await h.erase(env.registry.host);
    expect(h.cache()?.entries).toEqual({});
  });
});

describe('lease lifetime', () => {
  it('replaces a credential shortly before its lease ends; erase revokes the old and the new', async () => {
    // 6 s leases: handed out for 3 s (half the life, as 60 s is more than that).
    env.engine.setLeaseTtl(6);
    const h = engineHost();
    const leases = leaseWrites(env);
    const a = await getOk(h);
    expect(await getOk(h)).toEqual(a);
    const entry = h.cache()?.entries[env.registry.host];
    expect(entry?.endsAt).toBeDefined();
    expect((entry?.endsAt ?? 0) - (entry?.useUntil ?? 0)).toBeCloseTo(3000, -2);
    // Until the hand-out time the cache answers; after it, a get mints (polled: not a fixed
    // margin past a time another process decides on).
    await new Promise((r) => setTimeout(r, Math.max(0, (entry?.useUntil ?? 0) - Date.now())));
    let b = a;
    await waitFor('a get after the hand-out time to mint a new credential', async () => {
      b = await getOk(h);
      return b.Secret !== a.Secret;
    });
    expect(leaseWrites(env) - leases).toBe(2);
    expect(await env.registry.canLogin(b.Username, b.Secret)).toBe(true);
    // The old one still works for its last seconds and is remembered, so erase revokes it too.
    expect(env.engine.liveLeases()).toHaveLength(2);
    await h.erase(env.registry.host);
    expect(env.engine.liveLeases()).toEqual([]);
    expect(await env.registry.canLogin(b.Username, b.Secret)).toBe(false);
  });

  it('after a lease ended on its own, the next get mints a new one that works', async () => {
    env.engine.setLeaseTtl(2);
    const h = engineHost({ credential_helper: { renew_before: 0 } });
    const a = await getOk(h);
    // The stand-in ends the lease on its own timer: poll for it rather than race it.
    await waitFor('the 2 s lease to end', async () => env.engine.liveLeases().length === 0);
    expect(await env.registry.canLogin(a.Username, a.Secret)).toBe(false);
    const b = await getOk(h);
    expect(b.Secret).not.toBe(a.Secret);
    expect(await env.registry.canLogin(b.Username, b.Secret)).toBe(true);
    await h.erase(env.registry.host);
  });
});

describe('configuration changes', () => {
  it('keeps the credential through an edit that leaves its source alone, replaces it when the source changes', async () => {
    const h = engineHost();
    const leases = leaseWrites(env);
    const a = await getOk(h);
    const auth = jwtAuth(env, env.tmpDir);
    h.configure({
      vault: { url: env.vaultAddr },
      auth,
      registries: [{ registry: env.registry.host, secret_path: enginePath(env) }],
      credential_helper: { static_ttl: 60 },
    });
    expect(await getOk(h)).toEqual(a);
    expect(leaseWrites(env) - leases).toBe(1);
    h.configure({
      vault: { url: env.vaultAddr },
      auth,
      registries: [{ registry: env.registry.host, secret_path: enginePath(env, 'write') }],
    });
    const b = await getOk(h);
    expect(b.Secret).not.toBe(a.Secret);
    expect(leaseWrites(env) - leases).toBe(2);
    await h.erase(env.registry.host);
    expect(env.engine.liveLeases()).toEqual([]);
  });

  it('answers not-found for a registry removed from the file, and serves one added to it', async () => {
    const h = engineHost();
    await getOk(h);
    h.configure({ vault: { url: env.vaultAddr }, auth: jwtAuth(env, env.tmpDir), registries: [] });
    // An empty list is refused: the file must configure at least one registry.
    expect((await h.get(env.registry.host)).stdout).toMatch(/"registries": must be/);
    h.configure({
      vault: { url: env.vaultAddr },
      auth: jwtAuth(env, env.tmpDir),
      registries: [{ registry: 'other.example.test', secret_path: enginePath(env) }],
    });
    expect((await h.get(env.registry.host)).stdout).toBe(
      'credentials not found in native keychain\n',
    );
    // The credential it replaced is still held, so erase can revoke it.
    expect(env.engine.liveLeases()).toHaveLength(1);
    expect((await h.erase(env.registry.host)).code).toBe(0);
    expect(env.engine.liveLeases()).toEqual([]);
  });
});

describe('the cache file', () => {
  it('is 0600 in a 0700 directory of this user, and holds what the protocol answered', async () => {
    const h = engineHost();
    const c = await getOk(h);
    expect(statSync(h.cacheDir).mode & 0o777).toBe(0o700);
    const files = readdirSync(h.cacheDir);
    expect(files.filter((f) => f.endsWith('.json'))).toHaveLength(1);
    expect(files.some((f) => f.endsWith('.lock') || f.endsWith('.tmp'))).toBe(false);
    for (const f of files) expect(statSync(join(h.cacheDir, f)).mode & 0o777).toBe(0o600);
    expect(h.cache()?.entries[env.registry.host]).toMatchObject({
      username: c.Username,
      secret: c.Secret,
    });
    await h.erase(env.registry.host);
  });

  it("never uses a cache directory that is a symlink or another user's: it falls back to TMPDIR", async () => {
    const h = engineHost();
    const tmp = join(h.dir, 'tmp');
    mkdirSync(tmp);
    const withTmp = { ...h.env, TMPDIR: tmp };
    const fallback = join(tmp, `vault-docker-login-${process.getuid?.() ?? 0}`);
    const elsewhere = join(h.dir, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    mkdirSync(join(h.dir, 'run'), { recursive: true });
    symlinkSync(elsewhere, h.cacheDir);
    const r = await h.call('get', env.registry.host, withTmp);
    expect(r.code, r.stdout).toBe(0);
    expect(lstatSync(h.cacheDir).isSymbolicLink()).toBe(true);
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(readdirSync(fallback).filter((f) => f.endsWith('.json'))).toHaveLength(1);
    expect((await h.call('erase', env.registry.host, withTmp)).code).toBe(0);
    rmSync(h.cacheDir);

    // Another user took the directory (and could have written the file we would read).
    mkdirSync(h.cacheDir, { mode: 0o700 });
    chownSync(h.cacheDir, 65534, 65534);
    const other = await h.call('get', env.registry.host, withTmp);
    expect(other.code, other.stdout).toBe(0);
    expect(readdirSync(h.cacheDir)).toEqual([]);
    expect((await h.call('erase', env.registry.host, withTmp)).code).toBe(0);
    expect(env.engine.liveLeases()).toEqual([]);
  });

  it('reports a cache file it cannot trust instead of replacing it (its leases would be orphaned)', async () => {
    const h = engineHost();
    await getOk(h);
    const file = join(
      h.cacheDir,
      readdirSync(h.cacheDir).find((f) => f.endsWith('.json')) ?? 'missing',
    );
    const leases = leaseWrites(env);
    // Owned by the other user now (as if planted), then open to others.
    chownSync(file, 65534, 65534);
    const planted = await h.get(env.registry.host);
    expect(planted.code).toBe(1);
    expect(planted.stdout).toContain(
      `The credential helper cache ${file} is owned by uid 65534, not by this user (uid 0); not trusting it.`,
    );
    expect(planted.stdout).toContain('It is not replaced');
    expect(statSync(file).uid).toBe(65534);
    chownSync(file, 0, 0);
    chmodSync(file, 0o644);
    const loose = await h.get(env.registry.host);
    expect(loose.code).toBe(1);
    expect(loose.stdout).toContain('has mode 0644, not 0600; not trusting it.');
    expect(leaseWrites(env)).toBe(leases);
    chmodSync(file, 0o600);
    expect((await h.erase(env.registry.host)).code).toBe(0);
    expect(env.engine.liveLeases()).toEqual([]);
  });

  it('takes back its own directory when it is open to others (0700 again)', async () => {
    const h = engineHost();
    await getOk(h);
    // A group- or world-writable directory of ours is taken back (0700); the file in it is
    // trusted only after its own checks.
    chmodSync(h.cacheDir, 0o777);
    const again = await h.get(env.registry.host);
    expect(again.code).toBe(0);
    expect(statSync(h.cacheDir).mode & 0o777).toBe(0o700);
    await h.erase(env.registry.host);
  });
});

describe('the lock', () => {
  it('breaks a lock left by a process that died, and one older than any holder may live', async () => {
    const h = engineHost();
    await getOk(h);
    const lock = readdirSync(h.cacheDir)
      .find((f) => f.endsWith('.json'))
      ?.replace(/\.json$/, '.lock');
    const lockPath = join(h.cacheDir, lock ?? 'missing');
    await h.erase(env.registry.host);
    // A holder that died (this pid does not exist).
    writeFileSync(lockPath, '4194300 0 0.5', { mode: 0o600 });
    await getOk(h);
    await h.erase(env.registry.host);
    // A pid reused by another user's process (signalling it answers EPERM, which the pid-only
    // check took for a live holder and waited 5 minutes): its start time is not the holder's.
    const other = spawn('setpriv', [
      '--reuid',
      '65534',
      '--regid',
      '65534',
      '--clear-groups',
      'sleep',
      '60',
    ]);
    try {
      await new Promise((r) => setTimeout(r, 200));
      writeFileSync(lockPath, `${other.pid} 1 ${Date.now()} 0.5`, { mode: 0o600 });
      const t1 = Date.now();
      await getOk(h);
      expect(Date.now() - t1).toBeLessThan(10_000);
      await h.erase(env.registry.host);
    } finally {
      other.kill();
    }
    // A live process (ours, rightly started) whose lock is older than any holder may live.
    writeFileSync(lockPath, `${process.pid} ${startTime(process.pid)} 0 0.5`, { mode: 0o600 });
    const past = new Date(Date.now() - 11 * 60_000);
    utimesSync(lockPath, past, past);
    await getOk(h);
    await h.erase(env.registry.host);
  });
});

describe('erase with a borrowed token', () => {
  it('revokes the lease but never VAULT_TOKEN itself, and names the policy it lacks', async () => {
    const revoker = await makeToken(env, ['dockerhub-rw-revoke-own']);
    const plain = await makeToken(env, ['dockerhub-rw']);
    extraSecrets.push(revoker, plain);
    const h = engineHost({ auth: { method: 'token' } });
    const call = (verb: string, token: string) =>
      h.call(verb, env.registry.host, { ...h.env, VAULT_TOKEN: token });

    const a = await call('get', revoker);
    expect(a.code, a.stdout).toBe(0);
    expect((await call('erase', revoker)).code).toBe(0);
    expect(env.engine.liveLeases()).toEqual([]);
    expect(await env.vaultTokenAlive(revoker)).toBe(true);

    expect((await call('get', plain)).code).toBe(0);
    const r = await call('erase', plain);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/Vault refused to revoke lease .* \(403\)\. It ends on its own at /);
    expect(r.stdout).toContain(
      `path "sys/leases/revoke/${env.fixtures.engineMount}/token/${env.fixtures.account}/read/*"`,
    );
    expect(await env.vaultTokenAlive(plain)).toBe(true);
    // Forgotten anyway: the next get mints a new one. The lease lives on until its TTL.
    expect(h.cache()?.entries).toEqual({});
    expect(env.engine.liveLeases()).toHaveLength(1);
    await revokeAllLeases(env);
  });
});
