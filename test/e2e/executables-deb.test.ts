// The Debian package (npm run build:deb) installed with dpkg into a root of its own, and every
// bin run from it with no node on PATH and nothing else in its environment: --version and --help,
// then one real flow each against OpenBao, the registry and the Docker daemon. Purged at the end.
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { writeDockerConfig } from '../harness/daemon.js';
import { debFile, dpkgInstall, dpkgPurge, toolsWithoutNode } from '../harness/executable.js';
import { type DaemonEnv, startEnv } from '../harness/index.js';
import {
  kubeletConfig,
  PROVIDER,
  printedByProvider,
  startKubelet,
} from '../harness/kubelet-provider.js';
import { expectNoLeaks } from '../harness/leak.js';
import { run, startProcess, waitFor } from '../harness/procs.js';
import { BINS, expectVersionAndHelp, runOpenStdin, VERSION } from './bin-info.js';
import { enginePath } from './credential-helper-host.js';
import { expectNothingAlive } from './expect-clean.js';
import { CREDENTIAL_REFUSED, expectPullRefused, expectPullWorks } from './expect-pull.js';
import {
  authOf,
  callPlugin,
  type DriverVault,
  prepareDriverVault,
  revokeLiveLeases,
} from './swarm-driver-run.js';

let env: DaemonEnv;
let v: DriverVault;
let root: string;
/** The package's /usr/bin and a docker link: no node. */
let path: string;
let printed = '';
const extraSecrets: string[] = [];

const bin = (name: string) => join(root, 'usr', 'bin', name);
const ETC = 'etc/vault-docker-login';

type Doc = Record<string, Record<string, unknown> | unknown[]>;
/** An example configuration the package installed, with keys set for this environment. */
function fromExample(example: string, set: (doc: Doc) => void): string {
  const doc = parse(readFileSync(join(root, ETC, example), 'utf8')) as Doc;
  set(doc);
  const file = join(v.dir, example.replace(/\.example$/, ''));
  writeFileSync(file, stringify(doc), { mode: 0o600 });
  return file;
}

/** The file the helper and the provider share, for this registry and the engine's account. */
const hostConfig = () =>
  fromExample('config.yml.example', (doc) => {
    doc.vault = { ...doc.vault, url: env.vaultAddr };
    doc.auth = { ...doc.auth, token_file: v.tokenFile };
    doc.registries = [{ registry: env.registry.host, secret_path: enginePath(env) }];
  });

beforeAll(async () => {
  const deb = debFile(VERSION);
  env = await startEnv({ daemon: true });
  root = join(env.tmpDir, 'deb-root');
  await dpkgInstall(root, deb);
  const tools = await toolsWithoutNode(join(env.tmpDir, 'tools'), ['docker']);
  path = `${join(root, 'usr', 'bin')}:${tools}`;
  v = await prepareDriverVault(env, 'deb');
  extraSecrets.push(v.token, v.kv.password);
}, 180_000);

afterAll(async () => {
  if (!env) return;
  try {
    await revokeLiveLeases(env);
    expectNothingAlive(env);
    expectNoLeaks(`${printed}\n${env.daemon.logs()}`, [...env.secrets(), ...extraSecrets]);
  } finally {
    await env.stop();
  }
}, 120_000);

describe('the Debian package', () => {
  it('installs the executable, a link per bin, /etc/vault-docker-login and the unit', async () => {
    const exe = statSync(bin('vault-docker-login'));
    expect(exe.mode & 0o777).toBe(0o755);
    for (const name of BINS.filter((b) => b !== 'vault-docker-login')) {
      expect(lstatSync(bin(name)).isSymbolicLink(), name).toBe(true);
      expect(readlinkSync(bin(name))).toBe('vault-docker-login');
    }
    expect(statSync(join(root, ETC)).mode & 0o777).toBe(0o700);
    for (const f of ['config.yml.example', 'swarm-driver.yml.example'])
      expect(statSync(join(root, ETC, f)).mode & 0o777, f).toBe(0o600);
    const unit = readFileSync(join(root, 'lib/systemd/system/vault-swarm-secrets.service'), 'utf8');
    expect(unit).toMatch(
      /^ExecStart=\/usr\/bin\/vault-swarm-secrets --config \/etc\/vault-docker-login\/swarm-driver\.yml$/m,
    );
    expect(unit).toMatch(/^\[Install\]$/m);
    const status = await run('dpkg', [`--root=${root}`, '--status', 'vault-docker-login']);
    expect(status.stdout).toContain(`Version: ${VERSION}`);
    const which = await run('/bin/sh', ['-c', 'command -v node || echo none'], {
      env: { PATH: path },
    });
    expect(which.stdout.trim()).toBe('none');
  });

  for (const name of BINS)
    it(`${name}: --version and --help with only PATH in its environment`, async () => {
      await expectVersionAndHelp(name, (args) => runOpenStdin(bin(name), args, { PATH: path }));
    });
});

describe('the one executable for every bin', () => {
  /** A link to it under a name that is no bin's. */
  const other = () => {
    const link = join(v.dir, 'vdl-multi');
    if (!existsSync(link)) symlinkSync(bin('vault-docker-login'), link);
    return link;
  };

  it('under another name, its first argument names the bin', async () => {
    const r = await runOpenStdin(other(), ['vault-swarm-secrets', '--version'], { PATH: path });
    expect(r).toMatchObject({
      code: 0,
      stdout: `vault-swarm-secrets (vault-docker-login) ${VERSION}\n`,
    });
  });

  it('under another name and no bin named: its usage, exit 2', async () => {
    for (const args of [[], ['--version'], ['docker-credential']]) {
      const r = await runOpenStdin(other(), args, { PATH: path });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('One executable for the bins of vault-docker-login');
    }
  });

  it('ignores NODE_OPTIONS: a --require from the environment does not run inside it', async () => {
    const marker = join(v.dir, 'required-ran');
    const script = join(v.dir, 'evil.cjs');
    writeFileSync(script, `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x');\n`);
    const r = await runOpenStdin(bin('docker-credential-vault'), ['--version'], {
      PATH: path,
      NODE_OPTIONS: `--require ${script}`,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('one real flow per bin, no node on PATH', () => {
  it('docker-credential-vault: docker pulls with credHelpers only; docker logout revokes', async () => {
    const config = hostConfig();
    const home = join(v.dir, 'helper-home');
    mkdirSync(join(home, 'run'), { recursive: true, mode: 0o700 });
    const dockerCfg = join(home, '.docker');
    mkdirSync(dockerCfg, { recursive: true });
    writeFileSync(
      join(dockerCfg, 'config.json'),
      JSON.stringify({ credHelpers: { [env.registry.host]: 'vault' } }),
    );
    const hostEnv = {
      PATH: path,
      HOME: home,
      XDG_RUNTIME_DIR: join(home, 'run'),
      VAULT_DOCKER_LOGIN_CONFIG: config,
      ...env.daemon.env(dockerCfg),
    };
    const pull = await run('docker', ['pull', env.privateImage], { env: hostEnv });
    printed += `${pull.stdout}\n${pull.stderr}\n`;
    expect(pull.code, pull.stderr).toBe(0);
    expect(env.engine.liveLeases()).toHaveLength(1);
    const logout = await run('docker', ['logout', env.registry.host], { env: hostEnv });
    printed += `${logout.stdout}\n${logout.stderr}\n`;
    expect(logout.code, logout.stderr).toBe(0);
    expect(env.engine.liveLeases()).toEqual([]);
  });

  it('vault-credential-provider: the kubelet runs it from its bin dir; the pull works', async () => {
    const binDir = join(v.dir, 'kubelet-bin');
    mkdirSync(binDir, { recursive: true });
    symlinkSync(bin(PROVIDER), join(binDir, PROVIDER));
    const kubelet = startKubelet(
      env,
      binDir,
      kubeletConfig({
        configFile: hostConfig(),
        matchImages: [env.registry.host],
      }),
      { env: { PATH: path, HOME: v.dir } },
    );
    const [auth] = await kubelet.credentialsFor(env.privateImage);
    printed += printedByProvider(kubelet.execs);
    expect(kubelet.execs[0]?.code, kubelet.execs[0]?.stderr).toBe(0);
    if (!auth) throw new Error('the provider gave no credential');
    extraSecrets.push(auth.password);
    const dir = await writeDockerConfig(join(v.dir, 'kubelet-pull'), {
      [env.registry.host]: { username: auth.username, secret: auth.password },
    });
    await expectPullWorks(env, dir);
    expect(await revokeLiveLeases(env)).toBe(1);
    const refused = await env.daemon.pull(env.privateImage, dir);
    expect(refused.stderr).toMatch(CREDENTIAL_REFUSED);
  });

  it('vault-docker-login: login, pull, logout; the registry then refuses the credential', async () => {
    const dockerCfg = join(v.dir, 'cli-docker');
    mkdirSync(dockerCfg, { recursive: true });
    const cliEnv = {
      PATH: path,
      HOME: v.dir,
      VAULT_TOKEN: v.token,
      ...env.daemon.env(dockerCfg),
    };
    const state = join(v.dir, 'cli-state.json');
    const login = await run(
      bin('vault-docker-login'),
      [
        'login',
        '--identity',
        'vault-token',
        '--url',
        env.vaultAddr,
        '--secret-path',
        enginePath(env),
        '--registry',
        env.registry.host,
        '--state-file',
        state,
      ],
      { env: cliEnv },
    );
    printed += `${login.stdout}\n${login.stderr}\n`;
    expect(login.code, login.stderr).toBe(0);
    const copy = await expectPullWorks(env, dockerCfg);
    const logout = await run(bin('vault-docker-login'), ['logout', '--state-file', state], {
      env: cliEnv,
    });
    printed += `${logout.stdout}\n${logout.stderr}\n`;
    expect(logout.code, logout.stderr).toBe(0);
    expect(existsSync(state)).toBe(false);
    await expectPullRefused(env, dockerCfg, copy);
  });

  it("vault-swarm-secrets: started as the package's unit starts it, serves GetSecret", async () => {
    const socket = join(v.dir, 'deb-driver.sock');
    const config = fromExample('swarm-driver.yml.example', (doc) => {
      doc.vault = { ...doc.vault, url: env.vaultAddr };
      doc.auth = { ...doc.auth, token_file: v.tokenFile };
      doc.driver = { socket };
    });
    const unit = readFileSync(join(root, 'lib/systemd/system/vault-swarm-secrets.service'), 'utf8');
    const [cmd = '', ...args] = (/^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '')
      .replace('/etc/vault-docker-login/swarm-driver.yml', config)
      .split(' ');
    const proc = startProcess(join(root, cmd), args, { PATH: path });
    try {
      await waitFor(
        'the driver from the package',
        async () => (await callPlugin(socket, '/Plugin.Activate')).status === 200,
        proc,
      );
      const answer = await callPlugin(socket, '/SecretProvider.GetSecret', {
        SecretName: 'registry',
        SecretLabels: { 'vault.path': enginePath(env), 'vault.registry': env.registry.host },
        ServiceName: 'web',
        TaskName: 'web.1.deb',
      });
      expect(answer.body.Err ?? '').toBe('');
      const value = Buffer.from(answer.body.Value ?? '', 'base64').toString('utf8');
      extraSecrets.push(value, authOf(value, env.registry.host).secret);
      const dir = join(v.dir, 'driver-pull');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'config.json'), value, { mode: 0o600 });
      await expectPullWorks(env, dir);
    } finally {
      await proc.stop();
      printed += proc.output();
    }
    expect(proc.child.exitCode).toBe(0);
    expect(proc.output()).toMatch(/info stopped/);
  });
});

describe('dpkg --purge', () => {
  it('removes the executable, the links, /etc/vault-docker-login and the unit', async () => {
    const r = await dpkgPurge(root);
    expect(r.code, r.stderr).toBe(0);
    for (const p of [
      ...BINS.map((b) => join('usr/bin', b)),
      ETC,
      'lib/systemd/system/vault-swarm-secrets.service',
    ])
      expect(existsSync(join(root, p)), p).toBe(false);
  });
});
