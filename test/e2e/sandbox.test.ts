// ./scripts/sandbox.sh as a user runs it: the export lines it prints are enough to log in with the
// CLI and with the orb's login command, and Ctrl-C (SIGINT) stops every process it started.
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

  expect(markedProcesses(RUN).length).toBeGreaterThan(0);
  sandbox.kill('SIGINT');
  expect(await exited(sandbox)).toBe(0);
  expect(stdout).toContain('SIGINT: services stopped.');
  // Nothing it started is left, and its scratch directory (the env file, DOCKER_CONFIG) is gone.
  let left = markedProcesses(RUN);
  for (let i = 0; i < 20 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    left = markedProcesses(RUN);
  }
  expect(left).toEqual([]);
  expect(existsSync(envFile)).toBe(false);
});
