// Self-test: the Docker daemon in the harness (own socket, TLS TCP listener, stopped with its
// containerd and shims), the private image, and the token-auth registry seen through real pulls.
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, writeDockerConfig } from '../harness/daemon.js';
import { markedProcesses } from '../harness/global-setup.js';
import { type DaemonEnv, startEnv } from '../harness/index.js';
import { RUN_ENV, run, waitFor } from '../harness/procs.js';
import { expectNothingAlive } from './expect-clean.js';
import { CREDENTIAL_REFUSED, PULL_DENIED } from './expect-pull.js';
import { vaultApi } from './vault-api.js';

let env: DaemonEnv;
beforeAll(async () => {
  env = await startEnv({ daemon: { tcp: true } });
});
afterAll(async () => {
  await env?.stop();
});

const scratch = (name: string) => mkdtempSync(join(env.tmpDir, `${name}-`));
const configFor = (creds: { username: string; secret: string }) =>
  writeDockerConfig(scratch('cfg'), { [env.registry.host]: creds });

const vault = (method: string, path: string, token: string, body?: unknown) =>
  vaultApi(env, method, path, token, body);

async function kvCredential(): Promise<{ username: string; secret: string }> {
  const fx = env.fixtures;
  const r = await vault('GET', `${fx.kvMount}/data/${fx.kvPath}`, env.rootToken);
  return { username: r.json.data.data.username, secret: r.json.data.data.password };
}

async function vaultLogin(role: string): Promise<string> {
  const r = await vault('POST', 'auth/github/login', '', { role, jwt: env.issuer.githubToken() });
  return r.json.auth.client_token;
}

async function hubToken(vaultToken: string, scope: string) {
  const r = await vault('POST', `dockerhub/token/${env.fixtures.account}/${scope}`, vaultToken, {});
  expect(r.status).toBe(200);
  return {
    lease: r.json.lease_id as string,
    creds: { username: r.json.data.username as string, secret: r.json.data.token as string },
  };
}

describe('the daemon', () => {
  it('runs dockerd and its own containerd on its own socket, with the run marker', async () => {
    const procs = env.daemon.processes().map(([, cmd]) => cmd);
    expect(procs.some((c) => c.startsWith(`dockerd --host ${env.daemon.host}`))).toBe(true);
    expect(procs.some((c) => c.startsWith('containerd --config'))).toBe(true);
    // The global teardown finds them by the run marker, which containerd inherits from dockerd.
    const marked = markedProcesses(process.env[RUN_ENV] ?? '').map(([pid]) => pid);
    for (const [pid] of env.daemon.processes()) expect(marked).toContain(pid);
    const info = await env.daemon.docker(['info', '--format', '{{.Driver}} {{.DockerRootDir}}'], {
      dockerConfig: scratch('cfg'),
    });
    expect(info.stdout.trim()).toBe(`vfs ${join(env.tmpDir, 'daemon', 'data')}`);
    expect(env.daemon.logs()).toContain('Daemon has completed initialization');
  });

  it('answers over TCP only with the client certificate (TLS, as a remote Docker)', async () => {
    const tcp = env.daemon.tcp;
    expect(tcp?.host).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const ok = await env.daemon.docker(['version', '--format', '{{.Server.Version}}'], {
      dockerConfig: scratch('cfg'),
      via: 'tcp',
    });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^\d+\.\d+/);
    const bare = await run('docker', ['version', '--format', '{{.Server.Version}}'], {
      env: { PATH: process.env.PATH, HOME: scratch('home'), DOCKER_HOST: tcp?.host },
    });
    expect(bare.code).not.toBe(0);
  });
});

describe('the private image', () => {
  it('is in the registry (skopeo with the admin credential) and not on the daemon', async () => {
    const authfile = join(await configFor(env.registry.admin), 'config.json');
    const ref = `docker://${env.privateImage}`;
    const inspect = await run('skopeo', [
      'inspect',
      '--tls-verify=false',
      '--authfile',
      authfile,
      ref,
    ]);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(JSON.parse(inspect.stdout).Name).toBe(env.privateImage.replace(/:1$/, ''));
    const anonymous = await run('skopeo', ['inspect', '--tls-verify=false', '--no-creds', ref]);
    expect(anonymous.code).not.toBe(0);
    const images = await env.daemon.docker(['images', '-q'], { dockerConfig: scratch('cfg') });
    expect(images.stdout.trim()).toBe('');
  });

  it('anonymous pull is refused with the daemon’s own error', async () => {
    const r = await env.daemon.pull(env.privateImage, scratch('cfg'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(PULL_DENIED);
    expect(env.registry.authRequests.at(-1)).toMatchObject({ username: '', status: 200 });
  });

  it('pulls with the KV credential after docker login through the daemon, and runs', async () => {
    const creds = await kvCredential();
    const cfg = scratch('cfg');
    const login = await env.daemon.docker(
      ['login', '--username', creds.username, '--password-stdin', env.registry.host],
      { dockerConfig: cfg, input: creds.secret },
    );
    expect(login.code, login.stderr).toBe(0);
    const pull = await env.daemon.pull(env.privateImage, cfg);
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout).toContain(`Downloaded newer image for ${env.privateImage}`);
    expect(env.registry.authRequests.at(-1)).toMatchObject({
      username: creds.username,
      granted: ['repository:acme/private:pull'],
    });
    // Already on the daemon, a pull still asks the registry: anonymous is refused.
    expect((await env.daemon.pull(env.privateImage, scratch('cfg'))).stderr).toMatch(PULL_DENIED);
    const ran = await env.daemon.docker(['run', '--rm', env.privateImage, 'echo', 'ran'], {
      dockerConfig: cfg,
    });
    expect(ran.stdout).toBe('ran\n');
  });

  it('pulls over TCP with a config holding the credential', async () => {
    const r = await env.daemon.pull(env.privateImage, await configFor(await kvCredential()), 'tcp');
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('Docker Hub tokens at the registry', () => {
  it('two live tokens of one account pull at once; a revoked one is refused, the other not', async () => {
    const token = await vaultLogin(env.fixtures.github.roleCanRevoke);
    try {
      const [a, b] = [await hubToken(token, 'read'), await hubToken(token, 'write')];
      const [cfgA, cfgB] = [await configFor(a.creds), await configFor(b.creds)];
      const pulls = await Promise.all([
        env.daemon.pull(env.privateImage, cfgA),
        env.daemon.pull(env.privateImage, cfgB),
      ]);
      for (const p of pulls) expect(p.code, p.stderr).toBe(0);

      const revoked = await vault('PUT', 'sys/leases/revoke', token, { lease_id: a.lease });
      expect(revoked.status).toBe(204);
      const refused = await env.daemon.pull(env.privateImage, cfgA);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(CREDENTIAL_REFUSED);
      const still = await env.daemon.pull(env.privateImage, cfgB);
      expect(still.code, still.stderr).toBe(0);
      await vault('POST', 'auth/token/revoke-self', token);
      expect((await env.daemon.pull(env.privateImage, cfgB)).stderr).toMatch(CREDENTIAL_REFUSED);
    } finally {
      await vault('POST', 'auth/token/revoke-self', token);
    }
    expectNothingAlive(env);
  });

  it('a public_read token logs in but may not pull a private image', async () => {
    const token = await vaultLogin(env.fixtures.github.role);
    try {
      const t = await hubToken(token, 'public_read');
      expect(await env.registry.canLogin(t.creds.username, t.creds.secret)).toBe(true);
      const r = await env.daemon.pull(env.privateImage, await configFor(t.creds));
      expect(r.stderr).toMatch(PULL_DENIED);
    } finally {
      await vault('POST', 'auth/token/revoke-self', token);
    }
    expectNothingAlive(env);
  });
});

describe('a daemon of its own', () => {
  it('runs a swarm service from the private image; no mount shows outside; stop leaves nothing', async () => {
    const daemon = await startDaemon(join(env.tmpDir, 'second'));
    try {
      const cfg = await configFor(env.registry.admin);
      await daemon.initSwarm();
      const create = ['service', 'create', '--detach', '--with-registry-auth', '--name', 'sleeper'];
      const service = await daemon.docker([...create, env.privateImage, 'sleep', '300'], {
        dockerConfig: cfg,
      });
      expect(service.code, service.stderr).toBe(0);
      const ps = ['service', 'ps', '--format', '{{.CurrentState}}', 'sleeper'];
      await waitFor('the swarm task to run', async () =>
        (await daemon.docker(ps, { dockerConfig: cfg })).stdout.startsWith('Running'),
      );
      const shim = daemon.processes().find(([, cmd]) => cmd.includes('containerd-shim'));
      expect(shim).toBeDefined();
      // dockerd's mounts (data root, the container's rootfs) stay in its own mount namespace.
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(
        join(env.tmpDir, 'second'),
      );
    } finally {
      await daemon.stop();
    }
    expect(daemon.processes()).toEqual([]);
  });
});
