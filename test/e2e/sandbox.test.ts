// ./scripts/sandbox.sh as a user runs it: the export lines it prints are enough to log in with the
// CLI and with the orb's login command, the command it prints for each host entry point works as
// printed (the credential helper in a docker pull, the kubelet provider, the Swarm driver's doctor),
// and Ctrl-C (SIGINT) stops every process it started.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { runJob } from '../harness/circleci-runner.js';
import { markedProcesses } from '../harness/global-setup.js';
import { RUN_ENV, run } from '../harness/procs.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The sandbox's own run marker, so its processes can be told from every other test's. */
const RUN = `sandbox-${randomBytes(6).toString('hex')}`;
const work = mkdtempSync(join(tmpdir(), 'vdl-sandbox-test-'));
let sandbox: ChildProcess | undefined;
let stdout = '';

const exited = (c: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    c.exitCode !== null || c.signalCode !== null
      ? resolve(c.exitCode)
      : c.once('exit', (code) => resolve(code)),
  );

afterAll(async () => {
  // Only when the test failed half-way: stop it as Ctrl-C would, then make sure.
  if (sandbox && sandbox.exitCode === null && sandbox.signalCode === null) {
    sandbox.kill('SIGTERM');
    await exited(sandbox);
  }
  for (const [pid] of markedProcesses(RUN)) process.kill(pid, 'SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** True when the registry takes this credential (the docker CLI checks it itself, no daemon). */
async function registryTakes(registry: string, username: string, secret: string) {
  const cfg = mkdtempSync(join(work, 'login-'));
  const r = await run('docker', ['login', '--username', username, '--password-stdin', registry], {
    input: secret,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: cfg,
      DOCKER_CONFIG: cfg,
      DOCKER_HOST: `unix://${join(cfg, 'no-daemon.sock')}`,
    },
  });
  return r.code === 0;
}

/** One printed command line, run as a shell runs it when pasted. */
async function pasted(line: string, input?: string) {
  return run('bash', ['--norc', '--noprofile', '-c', line], {
    input,
    env: { PATH: process.env.PATH ?? '', HOME: work },
  });
}

/** The printed line holding `what`, without its indent. */
function printedLine(what: RegExp): string {
  const line = stdout.split('\n').find((l) => what.test(l));
  if (!line) throw new Error(`the sandbox printed no line matching ${what}:\n${stdout}`);
  return line.trim();
}

async function cli(args: string[], env: Record<string, string>) {
  const r = await run(process.execPath, [join(ROOT, 'dist', 'cli', 'index.js'), ...args], { env });
  return { code: r.code, out: `${r.stdout}${r.stderr}` };
}

it('prints the exports a login needs, and SIGINT stops everything', async () => {
  sandbox = spawn('bash', [join(ROOT, 'scripts', 'sandbox.sh')], {
    cwd: ROOT,
    env: { ...process.env, [RUN_ENV]: RUN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  sandbox.stderr?.on('data', (d: Buffer) => {
    stderr += d;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sandbox not ready:\n${stderr}`)), 60_000);
    sandbox?.stdout?.on('data', (d: Buffer) => {
      stdout += d;
      if (stdout.includes('Ctrl-C stops everything.')) {
        clearTimeout(timer);
        resolve();
      }
    });
    sandbox?.once('exit', () => reject(new Error(`sandbox exited:\n${stderr}`)));
  });

  const exports = Object.fromEntries(
    [...stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']),
  );
  for (const name of ['VAULT_ADDR', 'DOCKER_CONFIG', 'VDL_REGISTRY', 'VDL_ACCOUNT']) {
    expect(exports[name], name).toBeTruthy();
  }
  for (const jwt of ['GITHUB_JWT', 'CIRCLECI_JWT', 'GITLAB_JWT', 'BUILDKITE_JWT'])
    expect(exports[jwt], jwt).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
  const envFile = /source (\S+)/.exec(stdout)?.[1] ?? '';
  expect(readFileSync(envFile, 'utf8')).toContain(`export VAULT_ADDR=${exports.VAULT_ADDR}`);

  // What the README has a newcomer type, with nothing but those exports.
  mkdirSync(join(work, 'run'));
  const shell = {
    PATH: process.env.PATH ?? '',
    HOME: work,
    XDG_RUNTIME_DIR: join(work, 'run'),
    ...exports,
  };
  const login = await cli(
    [
      'login',
      '--auth-mount',
      'gitlab',
      '--role',
      'gl-build',
      '--jwt-env',
      'GITLAB_JWT',
      '--account',
      exports.VDL_ACCOUNT ?? '',
      '--registry',
      exports.VDL_REGISTRY ?? '',
    ],
    shell,
  );
  expect(login.code, login.out).toBe(0);
  const config = join(exports.DOCKER_CONFIG ?? '', 'config.json');
  expect(readFileSync(config, 'utf8')).toContain(exports.VDL_REGISTRY);
  const logout = await cli(['logout'], shell);
  expect(logout.code, logout.out).toBe(0);
  expect(readFileSync(config, 'utf8')).not.toContain(exports.VDL_REGISTRY);

  // The orb's login and logout commands in a CircleCI-shaped job, with the CircleCI JWT.
  const job = await runJob({
    dir: join(work, 'orb'),
    steps: [
      {
        orb: 'login',
        parameters: {
          auth_mount: 'circleci',
          role: 'cci-build',
          account: exports.VDL_ACCOUNT ?? '',
          registry: exports.VDL_REGISTRY ?? '',
        },
      },
      { orb: 'logout' },
    ],
    env: { VAULT_ADDR: exports.VAULT_ADDR, CIRCLE_OIDC_TOKEN_V2: exports.CIRCLECI_JWT },
  });
  expect(job.success, job.output).toBe(true);
  // The orb logs in in its default mode: the job gets the credential helper for the registry.
  expect(job.output).toContain(`leases a credential for ${exports.VDL_REGISTRY} on first use`);

  // The host entry points, each with the setup and the one command the sandbox printed.
  const registry = exports.VDL_REGISTRY ?? '';
  const pull = printedLine(/ docker pull \S+$/);
  const image = /docker pull (\S+)$/.exec(pull)?.[1] ?? '';
  expect(image.startsWith(`${registry}/`)).toBe(true);
  // The helper's answer, asked as docker asks it, in the environment the pull line gives it.
  const get = await pasted(
    pull.replace(/ docker pull \S+$/, ' docker-credential-vault get'),
    registry,
  );
  expect(get.code, get.stderr).toBe(0);
  const answer = JSON.parse(get.stdout) as { Username: string; Secret: string };
  expect(answer.Username).toBe(exports.VDL_ACCOUNT);
  expect(await registryTakes(registry, answer.Username, answer.Secret)).toBe(true);
  const pulled = await pasted(pull);
  expect(pulled.code, pulled.stderr).toBe(0);
  expect(pulled.stdout).toContain(`Downloaded newer image for ${image}`);

  const provider = await pasted(printedLine(/vault-credential-provider --config /));
  expect(provider.code, provider.stderr).toBe(0);
  const response = JSON.parse(provider.stdout) as {
    kind: string;
    auth: Record<string, { username: string; password: string }>;
  };
  expect(response.kind).toBe('CredentialProviderResponse');
  const kubelet = response.auth[registry];
  expect(kubelet?.username).toBe(exports.VDL_ACCOUNT);
  expect(await registryTakes(registry, kubelet?.username ?? '', kubelet?.password ?? '')).toBe(
    true,
  );

  const doctor = await pasted(printedLine(/vault-swarm-secrets doctor --config /));
  expect(doctor.code, `${doctor.stdout}${doctor.stderr}`).toBe(0);
  expect(doctor.stdout).toMatch(/ok +vault login: AppRole on auth\/approle works/);

  // The secret_id stays in its file: neither the sandbox nor the commands printed it, nor the
  // credentials the helper and the provider answered on their protocol's stdout.
  const secretId = readFileSync(join(dirname(envFile), 'secret-id'), 'utf8').trim();
  expect(secretId).toMatch(/^[0-9a-f-]{36}$/);
  const shown = [stdout, stderr, get.stderr, pulled.stdout, pulled.stderr, provider.stderr];
  shown.push(doctor.stdout, doctor.stderr);
  for (const secret of [secretId, answer.Secret, kubelet?.password ?? ''])
    expect(shown.join('\n')).not.toContain(secret);

  // The helper's erase gives its lease back (the registry refuses it then); the provider's is the
  // kubelet's to cache, so the sandbox revokes it when it stops.
  const erase = await pasted(
    pull.replace(/ docker pull \S+$/, ' docker-credential-vault erase'),
    registry,
  );
  expect(erase.code, erase.stderr).toBe(0);
  expect(await registryTakes(registry, answer.Username, answer.Secret)).toBe(false);

  expect(markedProcesses(RUN).length).toBeGreaterThan(0);
  sandbox.kill('SIGINT');
  expect(await exited(sandbox)).toBe(0);
  expect(stdout).toContain('SIGINT: services stopped (1 lease still alive revoked first).');
  // Nothing it started is left, and its scratch directory (the env file, DOCKER_CONFIG) is gone.
  let left = markedProcesses(RUN);
  for (let i = 0; i < 20 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    left = markedProcesses(RUN);
  }
  expect(left).toEqual([]);
  expect(existsSync(envFile)).toBe(false);
});
