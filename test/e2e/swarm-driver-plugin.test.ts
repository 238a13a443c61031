// The Swarm driver as a Docker managed plugin (npm run build:plugin) on the harness's real daemon,
// installed as docs/swarm-driver.md says (its blocks run verbatim, example names swapped):
// `docker plugin create` and `push` to the real registry, `docker plugin install` from it; a real
// swarm whose tasks get their values; `disable` + `set` + `enable` again, and new tasks are still
// served; with AppRole and a wrapped secret_id, the state mount keeps the unwrapped secret_id, so
// the plugin logs in again after `disable` + `enable` without unwrapping again.
import { cpSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAppRole } from '../harness/approle.js';
import { writeDockerConfig } from '../harness/daemon.js';
import { shellBlocks } from '../harness/doc-snippets.js';
import { pluginDir } from '../harness/executable.js';
import { type DaemonEnv, startEnv } from '../harness/index.js';
import { expectNoLeaks } from '../harness/leak.js';
import { run } from '../harness/procs.js';
import { VERSION } from './bin-info.js';
import { expectNothingAlive } from './expect-clean.js';
import { CREDENTIAL_REFUSED } from './expect-pull.js';
import {
  authOf,
  DRIVER_POLICY,
  type DriverVault,
  prepareDriverVault,
  revokeLiveLeases,
} from './swarm-driver-run.js';
import { type Swarm, startSwarm } from './swarm-service.js';

let env: DaemonEnv;
let v: DriverVault;
let swarm: Swarm;
/** The host directory the plugin's `config` mount takes: swarm-driver.yml and the agent token. */
let etc: string;
/** The host directory the plugin's `state` mount takes (auth.state_dir's default inside). */
let state: string;
/** A docker config holding the registry admin's credential, for plugin push and install. */
let admin: string;
let plugin: string;
let printed = '';
const extraSecrets: string[] = [];
let n = 0;

async function docker(args: string[], dockerConfig?: string) {
  const r = dockerConfig
    ? await env.daemon.docker(args, { dockerConfig })
    : await swarm.docker(args);
  printed += `${r.stdout}\n${r.stderr}\n`;
  return r;
}

async function must(args: string[], dockerConfig?: string): Promise<string> {
  const r = await docker(args, dockerConfig);
  expect(r.code, `docker ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
}

/**
 * A service of one task whose secret the plugin delivers: a registry credential leased for it.
 * Returns the config.json the task found at /run/secrets/docker/config.json.
 */
async function taskSecret(): Promise<string> {
  const name = `plugin-${++n}`;
  await must([
    'secret',
    'create',
    '--driver',
    plugin,
    '--label',
    `vault.path=${env.fixtures.engineMount}/token/${env.fixtures.account}/read`,
    '--label',
    `vault.registry=${env.registry.host}`,
    name,
  ]);
  await swarm.createService(name, name, 'docker/config.json');
  const [task = ''] = await swarm.converged(name, 1);
  const cid = await must([
    'inspect',
    '--type',
    'task',
    '--format',
    '{{.Status.ContainerStatus.ContainerID}}',
    task,
  ]);
  const r = await swarm.docker(['exec', cid, 'cat', '/run/secrets/docker/config.json']);
  expect(r.code, r.stderr).toBe(0);
  extraSecrets.push(r.stdout, authOf(r.stdout, env.registry.host).secret);
  await must(['service', 'rm', name]);
  return r.stdout;
}

/** The task's credential pulls the private image; revoked, the registry refuses it. */
async function expectWorksThenRevoked(configJson: string): Promise<void> {
  const dir = join(env.tmpDir, `task-config-${n}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), configJson, { mode: 0o600 });
  const pull = await env.daemon.pull(env.privateImage, dir);
  expect(pull.code, pull.stderr).toBe(0);
  expect(await revokeLiveLeases(env)).toBe(1);
  const refused = await env.daemon.pull(env.privateImage, dir);
  expect(refused.stderr).toMatch(CREDENTIAL_REFUSED);
}

/** out/plugin: config.json and rootfs/. */
let pluginPath: string;

/** The docs' shell block holding `command`, run with the registry admin's docker config. */
async function docsBlock(command: string): Promise<void> {
  const block = shellBlocks('docs/swarm-driver.md').find((b) => b.code.includes(command));
  if (!block) throw new Error(`docs/swarm-driver.md has no shell block with ${command}`);
  let code = block.code;
  const swap: [string, string][] = [
    ['registry.example.com', env.registry.host],
    [':0.1.0', `:${VERSION}`],
    [' out/plugin', ` ${pluginPath}`],
    ['/etc/vault-docker-login', etc],
    ['/var/lib/vault-docker-login', state],
  ];
  for (const [from, to] of swap) code = code.split(from).join(to);
  const r = await run('sh', ['-ec', code], {
    env: { PATH: process.env.PATH, HOME: env.tmpDir, ...env.daemon.env(admin) },
  });
  printed += `${r.stdout}\n${r.stderr}\n`;
  expect(r.code, `docs/swarm-driver.md:${block.line}: ${r.stderr}`).toBe(0);
}

beforeAll(async () => {
  pluginPath = pluginDir();
  env = await startEnv({ daemon: true });
  v = await prepareDriverVault(env, 'plugin');
  extraSecrets.push(v.token, v.kv.password);
  // The configuration as the plugin sees it, under its `config` mount.
  etc = join(env.tmpDir, 'plugin-etc');
  mkdirSync(etc, { mode: 0o700 });
  state = join(env.tmpDir, 'plugin-state');
  cpSync(v.tokenFile, join(etc, 'agent-token'));
  writeFileSync(
    join(etc, 'swarm-driver.yml'),
    [
      'vault:',
      `  url: ${env.vaultAddr}`,
      '  timeout: 10',
      'auth:',
      '  method: token_file',
      '  token_file: /etc/vault-docker-login/agent-token',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  admin = await writeDockerConfig(join(env.tmpDir, 'plugin-admin'), {
    [env.registry.host]: env.registry.admin,
  });
  plugin = `${env.registry.host}/vault-docker-login/vault-swarm-secrets:${VERSION}`;
  swarm = await startSwarm(env.daemon, env.tmpDir, env.registry, env.privateImage);
}, 300_000);

afterAll(async () => {
  if (!env) return;
  try {
    await docker(['plugin', 'disable', '--force', plugin]);
    await docker(['plugin', 'rm', '--force', plugin]);
    await env.daemon.stop();
    await revokeLiveLeases(env);
    expectNothingAlive(env);
    expectNoLeaks(`${printed}\n${env.daemon.logs()}`, [...env.secrets(), ...extraSecrets]);
  } finally {
    await env.stop();
  }
}, 120_000);

describe('the Swarm driver as a managed plugin', () => {
  it("the docs' create and push, then install on the manager: a task's credential pulls", async () => {
    await docsBlock('docker plugin push');
    // The manager pulls it from the registry, not from what create left here.
    await must(['plugin', 'rm', plugin]);
    await docsBlock('docker plugin install');
    const inspect = JSON.parse(await must(['plugin', 'inspect', plugin]))[0];
    expect(inspect).toMatchObject({
      Enabled: true,
      Config: {
        Interface: { Types: ['docker.secretprovider/1.0'], Socket: 'vault-swarm.sock' },
        Network: { Type: 'host' },
      },
    });
    await expectWorksThenRevoked(await taskSecret());
  });

  it('disable, set the config mount, enable again: new tasks still get their values', async () => {
    await must(['plugin', 'disable', plugin]);
    expect(JSON.parse(await must(['plugin', 'inspect', plugin]))[0].Enabled).toBe(false);
    await must(['plugin', 'set', plugin, `config.source=${etc}`]);
    await must(['plugin', 'enable', plugin]);
    await expectWorksThenRevoked(await taskSecret());
  });

  it('AppRole with a wrapped secret_id: kept in the state mount, so disable + enable logs in again without unwrapping', async () => {
    const role = await makeAppRole(env, 'swarm-plugin', [DRIVER_POLICY]);
    const wrap = await role.wrappedSecretId('5m');
    extraSecrets.push(wrap);
    writeFileSync(join(etc, 'secret-id'), wrap, { mode: 0o600 });
    writeFileSync(
      join(etc, 'swarm-driver.yml'),
      [
        'vault:',
        `  url: ${env.vaultAddr}`,
        'auth:',
        '  method: approle',
        `  role_id: ${role.roleId}`,
        '  secret_id_file: /etc/vault-docker-login/secret-id',
        '  secret_id_wrapped: true',
        `  role_name: ${role.name}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const unwraps = () =>
      env.engine.requests.filter((q) => q.path === '/v1/sys/wrapping/unwrap').length;
    const before = unwraps();
    await must(['plugin', 'disable', plugin]);
    await must(['plugin', 'enable', plugin]);
    await expectWorksThenRevoked(await taskSecret());
    expect(unwraps()).toBe(before + 1);
    // On the host: the directory the install made (0700) holds the kept secret_id (0600).
    expect(statSync(state).mode & 0o777).toBe(0o700);
    const kept = readdirSync(state);
    expect(kept).toHaveLength(1);
    expect(statSync(join(state, kept[0] ?? '')).mode & 0o777).toBe(0o600);

    // The wrapping token is used now: only what the state mount kept can log the plugin in.
    await must(['plugin', 'disable', plugin]);
    await must(['plugin', 'enable', plugin]);
    await expectWorksThenRevoked(await taskSecret());
    expect(unwraps()).toBe(before + 1);
  });
});
