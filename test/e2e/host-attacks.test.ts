// Attacks by a second local user (uid 65534 through setpriv) on root's entry points, with a sticky
// world-writable directory standing in for /tmp: each must be refused, and the refusal says why.
import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAppRole } from '../harness/approle.js';
import { startEnv, type TestEnv } from '../harness/index.js';
import { revokeLeases, runProvider, writeProviderConfig } from '../harness/kubelet-provider.js';
import { asOtherUser, OTHER_UID, requireOtherUser, stickyDir } from '../harness/other-user.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'dist', 'cli', 'index.js');
/** Root's Vault token in these tests: it must never reach the attacker's listener. */
const ROOT_TOKEN = 'hvs.root-token-of-the-victim';

let dir: string;
let shared: string;
let listener: Server;
let listenerUrl: string;
/** Every request the attacker's listener received, with the token it carried. */
const received: { url: string; token?: string }[] = [];

beforeAll(async () => {
  requireOtherUser();
  dir = mkdtempSync(join(tmpdir(), 'vdl-attacks-'));
  shared = stickyDir(dir);
  listener = createServer((req, res) => {
    received.push({ url: req.url ?? '', token: req.headers['x-vault-token'] as string });
    res.writeHead(204).end();
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  listenerUrl = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => listener?.close(r));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { PATH: process.env.PATH ?? '', ...env },
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
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** A state file that makes logout revoke a borrowed lease at the attacker's listener. */
const planted = () =>
  JSON.stringify({
    version: 1,
    config: {
      url: listenerUrl,
      tls: {},
      retries: 0,
      timeoutMs: 5000,
      logout: false,
      revoke: true,
      registry: 'registry.test',
    },
    state: { borrowed: true, leaseId: 'dockerhub/token/bot/read/planted', vaultToken: undefined },
  });

describe("attack 1: a state file planted for root's logout", () => {
  const rootLogout = (args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, [CLI, 'logout', ...args], {
      HOME: join(dir, 'root-home'),
      TMPDIR: shared,
      VAULT_TOKEN: ROOT_TOKEN,
      ...env,
    });

  it("never reads the other user's vault-docker-login-0 in the shared TMPDIR", async () => {
    asOtherUser(
      `mkdir -m 0755 "$T/vault-docker-login-0" && printf '%s' "$S" > "$T/vault-docker-login-0/default.json"`,
      { T: shared, S: planted() },
    );
    // Also as XDG_RUNTIME_DIR: a shared place given there is skipped the same way.
    for (const env of [{}, { XDG_RUNTIME_DIR: shared }] as Record<string, string>[]) {
      const r = await rootLogout([], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/Nothing to clean up: no login state at /);
      expect(r.stderr).not.toContain(`${shared}/vault-docker-login-0`);
    }
    expect(received).toEqual([]);
  });

  it('refuses a --state-file the other user owns, and one that is a symlink, naming why', async () => {
    const file = join(shared, 'state.json');
    asOtherUser(`printf '%s' "$S" > "$F" && chmod 0600 "$F"`, { F: file, S: planted() });
    const owned = await rootLogout(['--state-file', file]);
    expect(owned.code).not.toBe(0);
    expect(owned.stderr).toContain(
      `State file ${file} is owned by uid ${OTHER_UID}, not by this user (uid 0); not trusting it.`,
    );

    // A symlink the other user placed, to a state file root wrote itself.
    const own = join(dir, 'root-state');
    mkdirSync(own, { mode: 0o700 });
    writeFileSync(join(own, 'default.json'), planted(), { mode: 0o600 });
    const link = join(shared, 'link.json');
    asOtherUser(`ln -s "$TARGET" "$L"`, { TARGET: join(own, 'default.json'), L: link });
    const linked = await rootLogout(['--state-file', link]);
    expect(linked.code).not.toBe(0);
    expect(linked.stderr).toContain(`State file ${link} is a symlink; not trusting it.`);

    // Root's own file, but open to others: someone may have written it.
    const open = join(own, 'open.json');
    writeFileSync(open, planted());
    chmodSync(open, 0o666);
    const loose = await rootLogout(['--state-file', open]);
    expect(loose.code).not.toBe(0);
    expect(loose.stderr).toContain('has mode 0666, not 0600; not trusting it.');
    expect(received).toEqual([]);
  });

  it('still cleans up with a state file root wrote (the check is not a blanket refusal)', async () => {
    const own = join(dir, 'root-state-good');
    mkdirSync(own, { mode: 0o700 });
    const file = join(own, 'default.json');
    writeFileSync(file, planted(), { mode: 0o600 });
    const r = await rootLogout(['--state-file', file]);
    expect(r.stderr).toContain('revoked');
    expect(received.map((q) => q.token)).toEqual([ROOT_TOKEN]);
    received.length = 0;
  });
});

describe("attack 2: the kubelet provider's state directory made by the other user", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startEnv();
  });
  afterAll(async () => {
    if (!env) return;
    await revokeLeases(env);
    await env.stop();
  });

  it('refuses a state_dir another user made, so no secret_id is written through its symlinks; reports an untrusted kept file', async () => {
    const role = await makeAppRole(env, 'attacked-node', ['dockerhub-rw']);
    const wrap = await role.wrappedSecretId('5m');
    const secretIdFile = join(dir, 'kubelet-secret-id');
    writeFileSync(secretIdFile, wrap, { mode: 0o600 });
    // The other user makes state_dir first, with kept.json.<pid> for the next pids pointing at a
    // file of theirs that anyone may read.
    const stateDir = join(shared, 'kubelet-state');
    const loot = join(shared, 'attacker', 'loot');
    // One process plants them all (a process per link would use up the pids it aims at).
    asOtherUser(
      `mkdir -m 0777 "$D" && mkdir -m 0755 "$(dirname "$L")" && : > "$L" && chmod 0666 "$L" && "$NODE" -e "$PLANT"`,
      {
        D: stateDir,
        L: loot,
        NODE: process.execPath,
        PLANT: `const fs = require('fs'); const n = Number(fs.readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8'));
          for (let i = n + 1; i <= n + 2000; i++) fs.symlinkSync(process.env.L, process.env.D + '/kept.json.' + i);`,
      },
    );
    const config = writeProviderConfig(dir, {
      vault: { url: env.vaultAddr },
      auth: {
        method: 'approle',
        role_id: role.roleId,
        secret_id_file: secretIdFile,
        secret_id_wrapped: true,
        state_dir: stateDir,
      },
      registries: [
        {
          registry: env.registry.host,
          secret_path: `dockerhub/token/${env.fixtures.account}/read`,
        },
      ],
    });
    const r = await runProvider(env, config, { image: `${env.registry.host}/app:1` });
    expect(readFileSync(loot, 'utf8')).toBe('');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `The state directory ${stateDir} (auth.state_dir) is not a directory this user alone may write; not trusting it.`,
    );
    // Nothing was unwrapped: the wrapping token is still there for a good state_dir.
    expect(env.engine.requests.some((q) => q.path === '/v1/sys/wrapping/unwrap')).toBe(false);

    // Attack 6: with root's own state directory it works; a kept file that then belongs to the
    // other user is reported on every run and left as it is, never silently replaced.
    const own = join(dir, 'kubelet-state-own');
    const good = writeProviderConfig(dir, {
      vault: { url: env.vaultAddr },
      auth: {
        method: 'approle',
        role_id: role.roleId,
        secret_id_file: secretIdFile,
        secret_id_wrapped: true,
        state_dir: own,
      },
      registries: [
        {
          registry: env.registry.host,
          secret_path: `dockerhub/token/${env.fixtures.account}/read`,
        },
      ],
    });
    const ok = await runProvider(env, good, { image: `${env.registry.host}/app:1` });
    expect(ok.code, ok.stderr).toBe(0);
    const [kept] = readdirSync(own);
    const keptFile = join(own, kept ?? 'missing');
    chownSync(keptFile, OTHER_UID, OTHER_UID);
    const refused = await runProvider(env, good, { image: `${env.registry.host}/app:2` });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `The kept file ${keptFile} is owned by uid ${OTHER_UID}, not by this user (uid 0); not trusting it.`,
    );
    expect(statSync(keptFile).uid).toBe(OTHER_UID);
    chownSync(keptFile, 0, 0);
    expect((await runProvider(env, good, { image: `${env.registry.host}/app:3` })).code).toBe(0);
  });
});
