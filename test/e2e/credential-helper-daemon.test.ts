// The credential helper proven with the real Docker daemon: `docker pull` of the private image with
// only `credHelpers` in config.json (the docs' file), skopeo through the same file, 20 parallel
// pulls on one lease, a new lease once one ends, `docker logout` making the registry refuse the
// old credential, a Swarm service started with --with-registry-auth, an unconfigured registry
// where docker goes on anonymously, and Vault down failing the pull with the helper's message.
// Everything printed, every argv, every config.json and the daemon's log are scanned for secrets.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../harness/credential-helper.js';
import { writeDockerConfig } from '../harness/daemon.js';
import { type DaemonEnv, startEnv } from '../harness/index.js';
import { type OpenRegistry, startOpenRegistry } from '../harness/open-registry.js';
import { freePort, run, waitFor } from '../harness/procs.js';
import { docBlock } from './credential-helper-docs.js';
import {
  enginePath,
  type Host,
  type HostKit,
  helperSuite,
  jwtAuth,
  leaseWrites,
} from './credential-helper-host.js';
import { CREDENTIAL_REFUSED } from './expect-pull.js';

let env: DaemonEnv;
let kit: HostKit;
let open: OpenRegistry;
let printed = '';
const configs: string[] = [];

const secretsSeen = helperSuite({
  start: () => startEnv({ daemon: true }),
  tools: ['docker', 'skopeo'],
  async ready(e, k) {
    env = e;
    kit = k;
    open = await startOpenRegistry(join(env.tmpDir, 'open-registry'));
  },
  // What docker and skopeo printed, and every config.json and auth.json the tests wrote. The
  // environment scans the daemon's log at stop.
  scan: () => [printed, ...configs.map((c) => readFileSync(c, 'utf8'))].join('\n'),
  beforeStop: async () => open?.close(),
});

/** A host whose helper configuration leases the test account's Docker Hub token. */
const engineHost = (vaultUrl = env.vaultAddr) =>
  kit.host({
    vault: { url: vaultUrl, retries: 0 },
    auth: jwtAuth(env, env.tmpDir),
    registries: [{ registry: env.registry.host, secret_path: enginePath(env) }],
  });

/** The docs' config.json (credHelpers only), for this registry and, when given, more hosts. */
function dockerConfig(h: Host, more: string[] = []): string {
  const dir = join(h.dir, `docker-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(dir, { recursive: true });
  const cfg = JSON.parse(docBlock('docker-config', { 'registry.example.com': env.registry.host }));
  for (const host of more) cfg.credHelpers[host] = 'vault';
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  configs.push(file);
  return dir;
}

/** The docker CLI as the host's user runs it: the helper on PATH, its configuration in the env. */
async function docker(h: Host, args: string[], cfg: string): Promise<RunResult> {
  const r = await run('docker', args, {
    env: { ...h.env, PATH: kit.path, ...env.daemon.env(cfg) },
  });
  printed += `${r.stdout}\n${r.stderr}\n`;
  return r;
}

/** `skopeo inspect` of the private image as the host's user, with an auth file or its env. */
async function inspect(h: Host, o: { authfile?: string; env?: Record<string, string> }) {
  const args = ['inspect', '--tls-verify=false'];
  if (o.authfile) args.push('--authfile', o.authfile);
  const r = await run('skopeo', [...args, `docker://${env.privateImage}`], {
    env: { ...h.env, PATH: kit.path, ...o.env },
  });
  printed += `${r.stdout}\n${r.stderr}\n`;
  return r;
}

const helperCalls = () => kit.argv().filter((a) => a[0] === 'docker-credential-vault');

function noAuths(cfg: string) {
  const json = JSON.parse(readFileSync(join(cfg, 'config.json'), 'utf8'));
  expect(json.auths ?? {}).toEqual({});
  expect(Object.keys(json)).not.toContain('auths');
}

/** The helper's credential, from its cache, to show later that the registry refuses it. */
function cached(h: Host) {
  const e = h.cache()?.entries[env.registry.host];
  if (!e) throw new Error('nothing cached');
  secretsSeen.push(e.secret);
  return { username: e.username, secret: e.secret };
}

describe('docker pull through credHelpers', () => {
  it('pulls the private image with no auths entry; skopeo inspects it through the same file', async () => {
    const h = engineHost();
    const cfg = dockerConfig(h);
    const leases = leaseWrites(env);
    const calls = helperCalls().length;
    const r = await docker(h, ['pull', env.privateImage], cfg);
    expect(r.code, r.stderr).toBe(0);
    expect(helperCalls().length).toBeGreaterThan(calls);
    expect(helperCalls().slice(calls)).toContainEqual(['docker-credential-vault', 'get']);
    noAuths(cfg);

    const skopeo = await inspect(h, { authfile: join(cfg, 'config.json') });
    expect(skopeo.code, skopeo.stderr).toBe(0);
    expect(JSON.parse(skopeo.stdout).Name).toBe(env.privateImage.replace(/:1$/, ''));
    // The docs' containers auth file (docker.io and bare hosts) works as well.
    const authFile = join(h.dir, 'auth.json');
    writeFileSync(
      authFile,
      docBlock('containers-auth', { 'registry.example.com': env.registry.host }),
    );
    configs.push(authFile);
    const viaAuthJson = await inspect(h, { env: { REGISTRY_AUTH_FILE: authFile } });
    expect(viaAuthJson.code, viaAuthJson.stderr).toBe(0);
    // Every get of the pull and both inspects came from one lease.
    expect(leaseWrites(env) - leases).toBe(1);
    expect((await docker(h, ['logout', env.registry.host], cfg)).code).toBe(0);
  });

  it('20 parallel pulls take one lease', async () => {
    const h = engineHost();
    const cfg = dockerConfig(h);
    const leases = leaseWrites(env);
    const pulls = await Promise.all(
      Array.from({ length: 20 }, () => docker(h, ['pull', env.privateImage], cfg)),
    );
    for (const p of pulls) expect(p.code, p.stderr).toBe(0);
    expect(leaseWrites(env) - leases).toBe(1);
    expect(env.engine.liveLeases()).toHaveLength(1);
    await docker(h, ['logout', env.registry.host], cfg);
  });

  it('a pull after the lease ended takes a new one; docker logout makes the registry refuse the old', async () => {
    env.engine.setLeaseTtl(6);
    const h = engineHost();
    const cfg = dockerConfig(h);
    const leases = leaseWrites(env);
    expect((await docker(h, ['pull', env.privateImage], cfg)).code).toBe(0);
    const first = cached(h);
    const until = h.cache()?.entries[env.registry.host]?.useUntil ?? 0;
    await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now()) + 100));
    expect((await docker(h, ['pull', env.privateImage], cfg)).code).toBe(0);
    expect(leaseWrites(env) - leases).toBe(2);
    const second = cached(h);
    expect(second.secret).not.toBe(first.secret);

    // docker logout runs the helper's erase: both leases revoked, the registry refuses them.
    const out = await docker(h, ['logout', env.registry.host], cfg);
    expect(out.code, out.stderr).toBe(0);
    expect(env.engine.liveLeases()).toEqual([]);
    for (const old of [first, second]) {
      const withOld = await writeDockerConfig(join(h.dir, `old-${Math.random()}`), {
        [env.registry.host]: old,
      });
      const refused = await env.daemon.pull(env.privateImage, withOld);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(CREDENTIAL_REFUSED);
    }
    // The next pull gets a fresh credential.
    expect((await docker(h, ['pull', env.privateImage], cfg)).code).toBe(0);
    await docker(h, ['logout', env.registry.host], cfg);
  });
});

describe('when the helper has nothing, or Vault is down', () => {
  it('an unconfigured registry: not found, and docker goes on anonymously (push and pull)', async () => {
    const h = engineHost();
    const cfg = dockerConfig(h, [open.host]);
    expect((await docker(h, ['pull', env.privateImage], cfg)).code).toBe(0);
    const copy = `${open.host}/acme/copy:1`;
    expect((await docker(h, ['tag', env.privateImage, copy], cfg)).code).toBe(0);
    const push = await docker(h, ['push', copy], cfg);
    expect(push.code, push.stderr).toBe(0);
    // The helper was asked and said why it had nothing (its stderr reaches docker's).
    expect(push.stderr).toContain(`no registry "${open.host}"`);
    expect((await docker(h, ['rmi', copy], cfg)).code).toBe(0);
    const pull = await docker(h, ['pull', copy], cfg);
    expect(pull.code, pull.stderr).toBe(0);
    await docker(h, ['rmi', copy], cfg);
    await docker(h, ['logout', env.registry.host], cfg);
  });

  it('Vault down: the pull fails and docker prints the helper message; so does skopeo', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const h = engineHost(closed);
    const cfg = dockerConfig(h);
    const why = new RegExp(
      `No credential for ${env.registry.host} from Vault .*Cannot reach ${closed}`,
    );
    // docker pull drops the helper's error and asks anonymously: its stderr is what shows why.
    const r = await docker(h, ['pull', env.privateImage], cfg);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(why);
    expect(r.stderr).toMatch(/credential_helper\.on_error: anonymous/);
    expect(r.stderr).toMatch(/pull access denied/);
    const skopeo = await inspect(h, { authfile: join(cfg, 'config.json') });
    expect(skopeo.code).not.toBe(0);
    expect(skopeo.stderr).toMatch(why);
  });
});

describe('Swarm', () => {
  it('runs a service from the private image with --with-registry-auth, the credential from the helper', async () => {
    const h = engineHost();
    const cfg = dockerConfig(h);
    await env.daemon.initSwarm();
    const leases = leaseWrites(env);
    const calls = helperCalls().length;
    const create = await docker(
      h,
      [
        'service',
        'create',
        '--detach',
        '--with-registry-auth',
        '--name',
        'pulled-with-vault',
        env.privateImage,
        'sleep',
        '300',
      ],
      cfg,
    );
    expect(create.code, create.stderr).toBe(0);
    expect(helperCalls().slice(calls)).toContainEqual(['docker-credential-vault', 'get']);
    expect(leaseWrites(env) - leases).toBe(1);
    const ps = ['service', 'ps', '--format', '{{.CurrentState}} {{.Error}}', 'pulled-with-vault'];
    await waitFor(
      'the swarm task to run',
      async () => (await docker(h, ps, cfg)).stdout.startsWith('Running'),
      undefined,
      60_000,
    );
    noAuths(cfg);
    expect((await docker(h, ['service', 'rm', 'pulled-with-vault'], cfg)).code).toBe(0);
    await docker(h, ['logout', env.registry.host], cfg);
  });
});
