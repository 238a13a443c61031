// The Swarm secrets driver under a real Docker daemon in Swarm mode: services whose secrets are
// created with `--driver`, tasks that read what the driver gave them, pulls with those
// credentials, a wrapped value unwrapped once, and refusals as the manager sees them.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baoApi } from '../harness/approle.js';
import { type DaemonEnv, startEnv } from '../harness/index.js';
import { expectNoLeaks } from '../harness/leak.js';
import { waitFor } from '../harness/procs.js';
import { expectNothingAlive } from './expect-clean.js';
import { CREDENTIAL_REFUSED } from './expect-pull.js';
import {
  authOf,
  type DriverVault,
  driverConfig,
  prepareDriverVault,
  type RunningDriver,
  revokeLiveLeases,
  startDriver,
} from './swarm-driver-run.js';
import { type Swarm, startSwarm } from './swarm-service.js';

let env: DaemonEnv;
let v: DriverVault;
let swarm: Swarm;
let driver: RunningDriver;
/** Unique per run: /run/docker/plugins is shared by every daemon on the machine. */
const plugin = `vdl-swarm-${randomBytes(4).toString('hex')}`;
const socket = `/run/docker/plugins/${plugin}.sock`;
const extraSecrets: string[] = [];
let printed = '';
let n = 0;

beforeAll(async () => {
  // --debug: the manager logs a driver's Err at debug level, and nowhere else.
  env = await startEnv({ daemon: { debug: true } });
  v = await prepareDriverVault(env, 'swarm-e2e');
  extraSecrets.push(v.token, v.kv.password);
  const config = driverConfig(v.dir, 'driver', {
    vault: { url: env.vaultAddr, timeout: 10, retries: 1 },
    auth: { method: 'token_file', token_file: v.tokenFile },
    driver: { socket },
  });
  [driver, swarm] = await Promise.all([
    startDriver(config, socket),
    startSwarm(env.daemon, env.tmpDir, env.registry, env.privateImage),
  ]);
}, 180_000);

afterAll(async () => {
  if (!env) return;
  // Leaves the swarm and stops the daemon first: no task asks the driver any more.
  await env.daemon.stop();
  if (driver) {
    expect(await driver.stop()).toBe(0);
    printed += driver.output();
  }
  // The driver revokes nothing it cannot track: the tasks' leases end here, by the root token.
  await revokeLiveLeases(env);
  expectNothingAlive(env);
  expectNoLeaks(`${printed}\n${env.daemon.logs()}`, [...env.secrets(), ...extraSecrets]);
  await env.stop();
}, 120_000);

/** The docker CLI on the test daemon; what it prints joins the leak scan. */
async function docker(args: string[]) {
  const r = await swarm.docker(args);
  printed += `${r.stdout}\n${r.stderr}\n`;
  return r;
}

async function createSecret(name: string, labels: Record<string, string>): Promise<string> {
  const flags = Object.entries(labels).flatMap(([k, val]) => ['--label', `${k}=${val}`]);
  const r = await docker(['secret', 'create', '--driver', plugin, ...flags, name]);
  expect(r.stderr).toBe('');
  return r.stdout.trim();
}

/** What a task's container finds at /run/secrets/<target>. */
async function secretOfTask(task: string, target: string): Promise<string> {
  const cid = (
    await swarm.docker([
      'inspect',
      '--type',
      'task',
      '--format',
      '{{.Status.ContainerStatus.ContainerID}}',
      task,
    ])
  ).stdout.trim();
  const r = await swarm.docker(['exec', cid, 'cat', `/run/secrets/${target}`]);
  expect(r.code).toBe(0);
  return r.stdout;
}

/** The first task error `docker service ps --no-trunc` shows. */
async function taskError(service: string): Promise<string> {
  let error = '';
  await waitFor(
    `a failed task of ${service}`,
    async () => {
      const r = await swarm.docker([
        'service',
        'ps',
        '--no-trunc',
        '--format',
        '{{.Error}}',
        service,
      ]);
      // --no-trunc prints the error quoted.
      error = (r.stdout.split('\n').find((l) => l.trim()) ?? '').replace(/^"(.*)"$/, '$1');
      return error !== '';
    },
    undefined,
    60_000,
  );
  printed += `${error}\n`;
  return error;
}

/** Text as a quoted log value shows it (logrus and the driver's log both escape quotes). */
const escaped = (text: string) => text.replace(/"/g, '\\"');

const engineRead = () => `${env.fixtures.engineMount}/token/${env.fixtures.account}/read`;

describe('a service on a real Swarm', () => {
  it('two replicas get two different leased credentials; each pulls the private image', async () => {
    const secret = await createSecret('registry', {
      'vault.path': engineRead(),
      'vault.registry': env.registry.host,
    });
    await swarm.createService('pull', 'registry', 'docker/config.json', 2);
    const tasks = await swarm.converged('pull', 2);
    const configs = await Promise.all(tasks.map((t) => secretOfTask(t, 'docker/config.json')));
    const creds = configs.map((c) => authOf(c, env.registry.host));
    extraSecrets.push(...configs, ...creds.map((c) => c.secret));
    expect(creds[0]?.secret).not.toBe(creds[1]?.secret);
    expect(env.engine.liveLeases()).toHaveLength(2);
    // A task uses its secret as DOCKER_CONFIG; here the same file pulls through the daemon.
    const dirs = configs.map((c, i) => {
      const dir = join(env.tmpDir, `task-config-${i}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'config.json'), c, { mode: 0o600 });
      return dir;
    });
    for (const dir of dirs) {
      const pull = await env.daemon.pull(env.privateImage, dir);
      expect(pull.code, pull.stderr).toBe(0);
    }
    // Neither the secret nor the service carries a value.
    const si = JSON.parse((await docker(['secret', 'inspect', 'registry'])).stdout)[0];
    expect(si).toMatchObject({
      ID: secret,
      Spec: { Name: 'registry', Driver: { Name: plugin }, Labels: { 'vault.path': engineRead() } },
    });
    expect(si.Spec.Data).toBeUndefined();
    const svc = (await docker(['service', 'inspect', 'pull'])).stdout;
    for (const value of [...configs, ...creds.map((c) => c.secret)])
      expect(svc).not.toContain(value);
    expect(driver.output()).toMatch(
      /info delivered secret=registry service=pull task=pull\.[12]\.\w+ path=\S+ method=write as=docker-config lease=\S+ lease_ttl=300s do_not_reuse=true/,
    );
    // The driver revokes nothing; the tests' cleanup does, and the registry then refuses both.
    expect(await revokeLiveLeases(env)).toBe(2);
    for (const dir of dirs) {
      const pull = await env.daemon.pull(env.privateImage, dir);
      expect(pull.code).toBe(1);
      expect(pull.stderr).toMatch(CREDENTIAL_REFUSED);
    }
  });

  it('a wrapped secret: the task holds a token that unwraps once at Vault', async () => {
    await createSecret('wrapped', { 'vault.path': 'secret/data/swarm/app', 'vault.wrap': '5m' });
    await swarm.createService('wrapped', 'wrapped', 'vault-wrap');
    const [task] = await swarm.converged('wrapped', 1);
    const wrap = (await secretOfTask(task ?? '', 'vault-wrap')).trim();
    extraSecrets.push(wrap);
    const look = await baoApi(env, 'POST', 'sys/wrapping/lookup', { token: wrap });
    expect(look.data).toMatchObject({ creation_path: 'secret/data/swarm/app' });
    const unwrap = () =>
      fetch(`${env.vaultAddr}/v1/sys/wrapping/unwrap`, {
        method: 'POST',
        headers: { 'X-Vault-Token': wrap },
      });
    const once = await unwrap();
    expect(((await once.json()) as { data: { data: unknown } }).data.data).toEqual(v.kv);
    expect((await unwrap()).status).toBe(400);
  });
});

describe('a crash-looping service', () => {
  it('keeps at most replicas + 1 live leases per secret: a new task of a slot revokes the lease of the task it replaced', async () => {
    await createSecret('loop', { 'vault.path': engineRead(), 'vault.registry': env.registry.host });
    const base = new Set(env.engine.liveLeases());
    const replicas = 2;
    const r = await docker([
      'service',
      'create',
      '--detach',
      '--quiet',
      '--name',
      'loop',
      '--replicas',
      String(replicas),
      '--restart-condition',
      'any',
      '--restart-delay',
      '0s',
      '--stop-grace-period',
      '1s',
      '--secret',
      'source=loop,target=docker/config.json',
      swarm.image,
      'sh',
      '-c',
      'sleep 1; exit 1',
    ]);
    expect(r.code, r.stderr).toBe(0);
    // 20 s of crash loop, sampling the live leases this service holds.
    let most = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < 20_000) {
      most = Math.max(most, env.engine.liveLeases().filter((l) => !base.has(l)).length);
      await new Promise((res) => setTimeout(res, 250));
    }
    await docker(['service', 'rm', 'loop']);
    const delivered = driver.output().match(/info delivered secret=loop /g)?.length ?? 0;
    const replaced =
      driver.output().match(/info replaced lease task=loop\.\S+ lease=\S+ revoke=revoked/g)
        ?.length ?? 0;
    console.info(
      `crash loop, ${replicas} replicas, 20 s: ${delivered} tasks given a lease, ${replaced} replaced leases revoked, at most ${most} live at once`,
    );
    expect(delivered).toBeGreaterThan(replicas + 1);
    expect(most).toBeLessThanOrEqual(replicas + 1);
    expect(replaced).toBeGreaterThanOrEqual(delivered - replicas - 1);
  });
});

describe('refusals as the manager sees them', () => {
  /** Swarm keeps the driver's Err in the manager's (debug) log; the task shows "not found". */
  async function refused(labels: Record<string, string>, expected: string) {
    const name = `refused-${++n}`;
    const id = await createSecret(name, labels);
    await swarm.createService(name, name, 'x');
    const error = await taskError(name);
    expect(error).toBe(
      `starting container failed: unable to get secret from secret store: secret ${id} not found`,
    );
    const line = driver
      .output()
      .split('\n')
      .find((l) => l.startsWith(`error refused secret=${name} service=${name} task=${name}.1.`));
    expect(line).toContain(escaped(expected));
    const manager = `failed to fetch secret" error="/SecretProvider.GetSecret: ${escaped(`secret "${name}": ${expected}`)}`;
    await waitFor('the refusal in the daemon log', async () => env.daemon.logs().includes(manager));
    await docker(['service', 'rm', name]);
  }

  it('a bad label', async () => {
    await refused(
      { 'vault.path': 'secret/data/swarm/app', 'vault.feild': 'password' },
      'Secret label "vault.feild": is not a label this driver knows; expected one of vault.path',
    );
  });

  it('a path with ".."', async () => {
    await refused(
      { 'vault.path': 'secret/data/../app', 'vault.field': 'password' },
      'Secret label "vault.path": must not contain "." or ".." segments',
    );
  });

  it('Vault down (sealed)', async () => {
    env.engine.faults.add({ path: '/v1/secret/data/swarm/app', status: 503, times: 1000 });
    try {
      await refused(
        { 'vault.path': 'secret/data/swarm/app', 'vault.field': 'password' },
        `Vault at ${env.vaultAddr} is unavailable (HTTP 503: Vault is sealed) after 1 retries within 10 s.`,
      );
    } finally {
      env.engine.faults.clear();
    }
  });
});
