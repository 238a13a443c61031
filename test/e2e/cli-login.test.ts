// The CLI (dist/cli/index.js) against the real OpenBao, engine stand-in, registry, docker CLI and
// daemon: every identity provider with its token shape, login then logout (the credential pulls a
// private image, then is refused), state file, exit codes, leaks.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ArgvRecorder, makeArgvRecorder } from '../harness/argv-recorder.js';
import { type DaemonEnv, startEnv } from '../harness/index.js';
import { expectNoLeaks } from '../harness/leak.js';
import { expectNothingAlive } from './expect-clean.js';
import { expectLoginThroughDaemon, expectPullRefused, expectPullWorks } from './expect-pull.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'dist', 'cli', 'index.js');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

let env: DaemonEnv;
let recorder: ArgvRecorder;
let tools: string;
let n = 0;
/** Tokens made outside the environment's logins (VAULT_TOKEN), for the leak scan. */
const extraSecrets: string[] = [];
/** Everything every CLI run printed, and what the stand-in tools were called with. */
let printed = '';

beforeAll(async () => {
  env = await startEnv({ daemon: true });
  recorder = makeArgvRecorder(env.tmpDir, ['docker']);
  tools = join(env.tmpDir, 'tools');
  mkdirSync(tools, { recursive: true });
});
afterAll(async () => {
  if (env) {
    expectNothingAlive(env);
    const secrets = [...env.secrets(), ...extraSecrets];
    expectNoLeaks(printed, secrets);
    expectNoLeaks(recorder.argv().flat().join('\n'), secrets);
    await env.stop();
  }
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A job directory: its own DOCKER_CONFIG and XDG_RUNTIME_DIR (where the state goes). */
function job() {
  const dir = join(env.tmpDir, `job-${++n}`);
  const docker = join(dir, 'docker');
  const runtime = join(dir, 'run');
  mkdirSync(docker, { recursive: true });
  mkdirSync(runtime, { recursive: true });
  return { dir, docker, runtime, state: join(runtime, `vault-docker-login-${process.getuid?.()}`) };
}

function cli(args: string[], extra: Record<string, string>, j = job()): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {
        PATH: [recorder.binDir, tools, process.env.PATH].join(':'),
        HOME: j.dir,
        DOCKER_CONFIG: j.docker,
        XDG_RUNTIME_DIR: j.runtime,
        VAULT_ADDR: env.vaultAddr,
        ...extra,
      },
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
    child.on('close', (code) => {
      printed += `${stdout}\n${stderr}\n`;
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

function auths(dockerConfig: string): Record<string, { auth?: string }> {
  const file = join(dockerConfig, 'config.json');
  if (!existsSync(file)) return {};
  return (
    (JSON.parse(readFileSync(file, 'utf8')) as { auths?: Record<string, { auth?: string }> })
      .auths ?? {}
  );
}

/** A stand-in tool on PATH: checks its argv, then prints the token kept in a file (never argv). */
function standIn(name: string, expectedArgs: string[], token: string) {
  const tokenFile = join(tools, `${name}.token`);
  const log = join(tools, `${name}.argv`);
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const want = JSON.stringify(expectedArgs);
  writeFileSync(
    join(tools, name),
    [
      '#!/bin/sh',
      `got=$(${JSON.stringify(process.execPath)} -e 'process.stdout.write(JSON.stringify(process.argv.slice(1)))' -- "$@")`,
      `printf '%s\\n' "$got" >> '${log}'`,
      `if [ "$got" != '${want}' ]; then echo "unexpected arguments: $got" >&2; exit 64; fi`,
      `cat '${tokenFile}'`,
      '',
    ].join('\n'),
  );
  chmodSync(join(tools, name), 0o755);
  return { calls: () => readFileSync(log, 'utf8').trim().split('\n') };
}

const engineArgs = (mount: string, role: string) => [
  '--auth-mount',
  mount,
  '--role',
  role,
  '--account',
  env.fixtures.account,
  '--scope',
  'read',
  '--registry',
  env.registry.host,
];

/**
 * login, check the credential works and the state is private; logout, check all of it is gone.
 * With `throughDaemon`, docker talks to the daemon and the credential must pull the private image.
 */
async function loginLogout(
  args: string[],
  identityEnv: Record<string, string>,
  identity: string,
  throughDaemon = false,
) {
  const j = job();
  const extra = { ...identityEnv, ...(throughDaemon ? env.daemon.env() : {}) };
  const login = await cli(['login', ...args, '--json'], extra, j);
  expect(login.code, login.stderr).toBe(0);
  expect(login.stderr).toContain(`Identity: ${identity}.`);
  const [result] = JSON.parse(login.stdout) as Record<string, string>[];
  expect(result?.registry).toBe(env.registry.host);
  const leaseId = result?.['lease-id'] ?? '';
  expect(env.engine.liveLeases()).toContain(leaseId);

  const stateFile = join(j.state, 'default.json');
  expect(statSync(j.state).mode & 0o777).toBe(0o700);
  expect(statSync(stateFile).mode & 0o777).toBe(0o600);
  const vaultToken = (
    JSON.parse(readFileSync(stateFile, 'utf8')) as { state: { vaultToken: string } }
  ).state.vaultToken;
  expect(await env.vaultTokenAlive(vaultToken)).toBe(true);
  const [user = '', secret = ''] = Buffer.from(
    auths(j.docker)[env.registry.host]?.auth ?? '',
    'base64',
  )
    .toString()
    .split(':');
  expect(await env.registry.canLogin(user, secret)).toBe(true);
  const copy = throughDaemon ? await expectPullWorks(env, j.docker) : '';
  if (throughDaemon) expectLoginThroughDaemon(env, user);

  const logout = await cli(['logout'], throughDaemon ? env.daemon.env() : {}, j);
  expect(logout.code, logout.stderr).toBe(0);
  expect(logout.stderr).not.toContain('warning');
  expect(auths(j.docker)[env.registry.host]).toBeUndefined();
  expect(await env.registry.canLogin(user, secret)).toBe(false);
  if (throughDaemon) await expectPullRefused(env, j.docker, copy);
  expect(env.engine.liveLeases()).not.toContain(leaseId);
  expect(await env.vaultTokenAlive(vaultToken)).toBe(false);
  expect(existsSync(stateFile)).toBe(false);
  return { login, logout };
}

describe('cli: identity providers', () => {
  it('GitHub Actions: the runner ID-token endpoint; the credential pulls through the daemon', async () => {
    await loginLogout(
      [
        ...engineArgs(env.fixtures.githubMount, env.fixtures.github.role),
        '--audience',
        env.fixtures.audience,
      ],
      {
        GITHUB_ACTIONS: 'true',
        ACTIONS_ID_TOKEN_REQUEST_URL: env.issuer.github.requestUrl,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: env.issuer.github.requestToken,
      },
      'github',
      true,
    );
  });

  it('CircleCI: CIRCLE_OIDC_TOKEN_V2 without an audience', async () => {
    await loginLogout(
      engineArgs(env.fixtures.circleciMount, env.fixtures.circleci.role),
      { CIRCLECI: 'true', CIRCLE_OIDC_TOKEN_V2: env.issuer.circleciToken({ v2: true }) },
      'circleci',
    );
  });

  it('CircleCI: `circleci run oidc get` (stand-in) mints a token with the audience', async () => {
    const tool = standIn(
      'circleci',
      ['run', 'oidc', 'get', '--claims', JSON.stringify({ aud: env.fixtures.audience })],
      env.issuer.circleciToken({ v2: true, claims: { aud: env.fixtures.audience } }),
    );
    // The org-id token in the variable would also work: prove the tool's token was used.
    await loginLogout(
      [
        ...engineArgs(env.fixtures.circleciMount, env.fixtures.circleci.role),
        '--audience',
        env.fixtures.audience,
      ],
      { CIRCLECI: 'true', CIRCLE_OIDC_TOKEN_V2: 'not.a-valid.token' },
      'circleci',
    );
    expect(tool.calls()).toHaveLength(1);
  });

  it('GitLab: an id_tokens variable, default and named by --gitlab-token-var', async () => {
    const args = engineArgs(env.fixtures.gitlabMount, env.fixtures.gitlab.role);
    await loginLogout(
      args,
      { GITLAB_CI: 'true', VAULT_ID_TOKEN: env.issuer.gitlabToken() },
      'gitlab',
    );
    await loginLogout(
      [...args, '--gitlab-token-var', 'REGISTRY_ID_TOKEN'],
      { GITLAB_CI: 'true', REGISTRY_ID_TOKEN: env.issuer.gitlabToken() },
      'gitlab',
    );
    const missing = await cli(['login', ...args], { GITLAB_CI: 'true' });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('No identity token: $VAULT_ID_TOKEN is empty or not set.');
    expect(missing.stderr).toContain('id_tokens:');
  });

  it('Buildkite: `buildkite-agent oidc request-token --audience` (stand-in checks its arguments)', async () => {
    const tool = standIn(
      'buildkite-agent',
      ['oidc', 'request-token', '--audience', env.fixtures.audience],
      env.issuer.buildkiteToken(),
    );
    await loginLogout(
      [
        ...engineArgs(env.fixtures.buildkiteMount, env.fixtures.buildkite.role),
        '--audience',
        env.fixtures.audience,
      ],
      { BUILDKITE: 'true' },
      'buildkite',
    );
    // Without the audience the stand-in refuses (exit 64): the CLI retries, then fails with exit 1.
    const wrong = await cli(
      [
        'login',
        ...engineArgs(env.fixtures.buildkiteMount, env.fixtures.buildkite.role),
        '--retries',
        '1',
      ],
      { BUILDKITE: 'true' },
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(
      '`buildkite-agent oidc request-token` returned no token (exit 64',
    );
    expect(wrong.stderr).toContain('Retrying buildkite-agent');
    expect(tool.calls()).toHaveLength(3);
  });

  it('a JWT from --jwt-file and from --jwt-env', async () => {
    const args = engineArgs(env.fixtures.githubMount, env.fixtures.github.role);
    const file = join(env.tmpDir, 'id-token.jwt');
    writeFileSync(file, `${env.issuer.githubToken()}\n`, { mode: 0o600 });
    await loginLogout([...args, '--jwt-file', file], {}, 'jwt-file');
    await loginLogout(
      [...args, '--jwt-env', 'MY_JWT'],
      { MY_JWT: env.issuer.githubToken() },
      'jwt-env',
    );
  });

  it('VAULT_TOKEN: no JWT login; logout revokes the lease but not the token it was given', async () => {
    const make = async (policy: string) => {
      const r = await fetch(`${env.baoAddr}/v1/auth/token/create`, {
        method: 'POST',
        headers: { 'X-Vault-Token': env.rootToken },
        body: JSON.stringify({ policies: [policy], ttl: '10m' }),
      });
      const token = ((await r.json()) as { auth: { client_token: string } }).auth.client_token;
      extraSecrets.push(token);
      return token;
    };
    const args = ['--account', env.fixtures.account, '--registry', env.registry.host, '--json'];
    const token = await make('dockerhub-rw-revoke');
    const j = job();
    const login = await cli(['login', ...args], { VAULT_TOKEN: token }, j);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).toContain('Using the Vault token from VAULT_TOKEN');
    const leaseId = (JSON.parse(login.stdout) as Record<string, string>[])[0]?.['lease-id'] ?? '';
    expect(readFileSync(join(j.state, 'default.json'), 'utf8')).not.toContain(token);
    const logout = await cli(['logout'], { VAULT_TOKEN: token }, j);
    expect(logout.code, logout.stderr).toBe(0);
    expect(logout.stderr).toContain(`Lease ${leaseId} revoked.`);
    expect(env.engine.liveLeases()).not.toContain(leaseId);
    expect(await env.vaultTokenAlive(token)).toBe(true);

    // A token that may not revoke leases: logout says when the lease ends and exits 1.
    const weak = await make('dockerhub-rw');
    const j2 = job();
    const l2 = await cli(['login', ...args], { VAULT_TOKEN: weak }, j2);
    const lease2 = (JSON.parse(l2.stdout) as Record<string, string>[])[0]?.['lease-id'] ?? '';
    const o2 = await cli(['logout'], { VAULT_TOKEN: weak }, j2);
    expect(o2.code).toBe(1);
    expect(o2.stderr).toContain(`may not revoke lease ${lease2}`);
    expect(o2.stderr).toContain('expires on its own at');
    expect(auths(j2.docker)[env.registry.host]).toBeUndefined();
    // Vault did not confirm the revoke: the state stays, so logout can be run again.
    const state2 = join(j2.state, 'default.json');
    expect(o2.stderr).toContain(`The login state stays in ${state2}`);
    expect(existsSync(state2)).toBe(true);
    // Without VAULT_TOKEN it still cannot revoke: it says so and keeps the state, never
    // "Nothing to clean up" while the lease lives.
    const o3 = await cli(['logout'], {}, j2);
    expect(o3.code).toBe(1);
    expect(o3.stderr).toContain(`VAULT_TOKEN is not set: cannot revoke ${lease2}`);
    expect(o3.stderr).not.toContain('Nothing to clean up');
    expect(o3.stderr).not.toContain('docker logout');
    expect(existsSync(state2)).toBe(true);
    expect(env.engine.liveLeases()).toContain(lease2);
    // With a token that may revoke it, logout finishes and removes the state.
    const o4 = await cli(['logout'], { VAULT_TOKEN: env.rootToken }, j2);
    expect(o4.code, o4.stderr).toBe(0);
    expect(o4.stderr).toContain(`Lease ${lease2} revoked.`);
    expect(existsSync(state2)).toBe(false);
    expect(env.engine.liveLeases()).not.toContain(lease2);
  });
});

describe('cli: generic sources, sessions, help and exit codes', () => {
  it('KV v2 and the engine for two registry names in one login, under a named session', async () => {
    const port = env.registry.host.split(':')[1];
    const j = job();
    const registries = JSON.stringify([
      {
        registry: env.registry.host,
        secret_path: `${env.fixtures.engineMount}/token/${env.fixtures.account}/read`,
      },
      {
        registry: `localhost:${port}`,
        'secret-path': `${env.fixtures.kvMount}/data/${env.fixtures.kvPath}`,
      },
    ]);
    const extra = { MY_JWT: env.issuer.githubToken() };
    const base = [
      '--auth-mount',
      env.fixtures.githubMount,
      '--role',
      env.fixtures.github.role,
      '--jwt-env',
      'MY_JWT',
    ];
    const login = await cli(
      ['login', ...base, '--registries', registries, '--session', 'build'],
      extra,
      j,
    );
    expect(login.code, login.stderr).toBe(0);
    expect(Object.keys(auths(j.docker)).sort()).toEqual(
      [env.registry.host, `localhost:${port}`].sort(),
    );
    expect(statSync(join(j.state, 'build.json')).mode & 0o777).toBe(0o600);

    const again = await cli(
      ['login', ...base, '--registries', registries, '--session', 'build'],
      extra,
      j,
    );
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('is still logged in');

    const logout = await cli(['logout', '--session', 'build'], {}, j);
    expect(logout.code, logout.stderr).toBe(0);
    expect(auths(j.docker)).toEqual({});
    const none = await cli(['logout', '--session', 'build'], {}, j);
    expect(none.code).toBe(0);
    expect(none.stderr).toContain('Nothing to clean up');
  });

  it('--state-file keeps the state where it is told, 0600', async () => {
    const j = job();
    const file = join(j.dir, 'custom', 'vdl.json');
    const args = [
      ...engineArgs(env.fixtures.githubMount, env.fixtures.github.role),
      '--jwt-env',
      'T',
    ];
    const login = await cli(
      ['login', ...args, '--state-file', file],
      { T: env.issuer.githubToken() },
      j,
    );
    expect(login.code, login.stderr).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(existsSync(j.state)).toBe(false);
    expect((await cli(['logout', '--state-file', file], {}, j)).code).toBe(0);
    expect(existsSync(file)).toBe(false);
  });

  it('prints help for every command (exit 0) and exits 2 on usage errors', async () => {
    for (const args of [['--help'], ['login', '--help'], ['logout', '-h']]) {
      const r = await cli(args, {});
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: vault-docker-login /);
    }
    // No command at all: the usage, on stderr, and the usage exit code.
    const bare = await cli([], {});
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^Usage: vault-docker-login <command>/);
    const version = await cli(['--version'], {});
    expect(version.code).toBe(0);
    expect(version.stdout).toBe(`${pkg.version}\n`);
    const logoutHelp = await cli(['logout', '--help'], {});
    expect(logoutHelp.stdout).toContain(
      'The state file is deleted once Vault has confirmed\nevery revocation (or the leases have ended on their own); until then it stays, and running\nlogout again retries.',
    );
    const login = await cli(['login', '--help'], {});
    for (const flag of [
      '--secret-path',
      '--registries',
      '--identity',
      '--gitlab-token-var',
      '--state-file',
    ])
      expect(login.stdout).toContain(flag);

    const cases: [string[], Record<string, string>, string][] = [
      [['deploy'], {}, 'Unknown command "deploy"'],
      [['login', '--bogus'], {}, "Unknown option '--bogus'"],
      [['login', '--role', 'r', '--account', 'a'], {}, 'No identity found'],
      [['login', '--identity', 'jenkins'], {}, '--identity must be one of'],
      [
        ['login', '--role', 'r', '--account', 'a', '--scope', 'all', '--jwt-env', 'X'],
        {},
        'error: --scope must be one of read, write, admin, public_read; got "all".',
      ],
      [
        ['login', '--account', 'a', '--jwt-env', 'X'],
        {},
        'error: --role is required: the Vault JWT role to log in with.',
      ],
      [
        [
          'login',
          '--role',
          'r',
          '--account',
          'a',
          '--secret-path',
          'secret/data/x',
          '--jwt-env',
          'X',
        ],
        {},
        'error: --secret-path replaces --account, which is set too: give the account (the Docker Hub engine path) or the secret path, not both.',
      ],
      [
        ['login', '--role', 'r', '--account', 'a', '--audience', 'x'],
        { GITLAB_CI: 'true' },
        "error: --audience has no effect with the gitlab identity: GitLab sets the token's audience in the job (id_tokens.VAULT_ID_TOKEN.aud). Remove --audience.",
      ],
      [
        ['login', '--role', 'r', '--account', 'a', '--audience', 'x', '--jwt-file', '/x'],
        {},
        'error: --audience has no effect with the jwt-file identity: the token in /x carries the audience it was minted for. Remove --audience.',
      ],
      [
        ['login', '--role', 'r', '--account', 'a', '--audience', 'x', '--jwt-env', 'X'],
        {},
        'error: --audience has no effect with the jwt-env identity: the token in $X carries the audience it was minted for. Remove --audience.',
      ],
      [
        [
          'login',
          '--role',
          'r',
          '--secret-path',
          'secret/data/x',
          '--secret-method',
          'get',
          '--jwt-env',
          'X',
        ],
        {},
        'error: --secret-method must be read or write',
      ],
      [['logout', '--session', '../x'], {}, '--session must be a name'],
    ];
    for (const [args, extra, message] of cases) {
      const r = await cli(args, extra);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(message);
      // The CLI speaks of flags, never of the Action's inputs.
      expect(r.stderr).not.toMatch(/\binputs?\b/i);
    }
  });

  it('exits 1 when Vault refuses, leaving no state and no token behind', async () => {
    const j = job();
    const r = await cli(
      ['login', ...engineArgs(env.fixtures.githubMount, 'no-such-role'), '--jwt-env', 'T'],
      { T: env.issuer.githubToken() },
      j,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('role "no-such-role" does not exist');
    expect(existsSync(join(j.state, 'default.json'))).toBe(false);

    const denied = await cli(
      [
        'login',
        ...engineArgs(env.fixtures.githubMount, env.fixtures.github.roleNoCreate),
        '--jwt-env',
        'T',
      ],
      { T: env.issuer.githubToken() },
      j,
    );
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('Vault denied writing');
    expect(denied.stderr).toContain('Vault token revoked');
    expect(existsSync(join(j.state, 'default.json'))).toBe(false);
  });
});

describe('cli: messages that name the fix', () => {
  const gh = (extra: string[] = []) => [
    'login',
    '--auth-mount',
    env.fixtures.githubMount,
    '--role',
    env.fixtures.github.role,
    '--jwt-env',
    'T',
    '--registry',
    env.registry.host,
    ...extra,
  ];
  const token = () => ({ T: env.issuer.githubToken() });
  const tokenPath = (account: string, scope = 'read') =>
    `/v1/${env.fixtures.engineMount}/token/${account}/${scope}`;
  const asked = (path: string) => env.engine.requests.filter((q) => q.path === path).length;

  it('an expired identity token says it expired, and when', async () => {
    const r = await cli(gh(['--account', env.fixtures.account]), {
      T: env.issuer.githubToken({ expiresIn: -600 }),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /error: Vault login failed: the identity token expired at \d{4}-\d\d-\d\dT\S+Z \(\d+ s ago\)/,
    );
    expect(r.stderr).toContain('obtain a fresh one right before logging in');
  });

  it('an audience the role does not bind says where GitLab sets it', async () => {
    const r = await cli(
      [
        'login',
        '--auth-mount',
        env.fixtures.gitlabMount,
        '--role',
        env.fixtures.gitlab.role,
        '--account',
        env.fixtures.account,
      ],
      { GITLAB_CI: 'true', VAULT_ID_TOKEN: env.issuer.gitlabToken({ claims: { aud: 'other' } }) },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'Token aud: "other". GitLab sets it in the job: id_tokens.VAULT_ID_TOKEN.aud.',
    );
  });

  it('a 403 at the login names --auth-mount (default jwt), or the /v1 the address ends in', async () => {
    const mount = await cli(
      ['login', '--role', 'r', '--jwt-env', 'T', '--account', env.fixtures.account],
      token(),
    );
    expect(mount.code).toBe(1);
    expect(mount.stderr).toContain(
      `error: Vault login failed: ${env.vaultAddr} refused auth/jwt/login (403 permission denied).`,
    );
    expect(mount.stderr).toContain(
      'No JWT auth method answers at auth/jwt: set --auth-mount to the path where it is enabled (the default is jwt; "vault auth list" shows the paths). An address ending in /v1 gives the same 403: --url must not include /v1.',
    );
    const v1 = await cli(gh(['--account', env.fixtures.account]), {
      ...token(),
      VAULT_ADDR: `${env.vaultAddr}/v1`,
    });
    expect(v1.stderr).toContain(
      'The Vault address ends in /v1, so the login went to /v1/v1/auth/github/login: set --url to the address without /v1.',
    );
  });

  it('https:// against a plain-HTTP Vault: one sentence, no OpenSSL text, no retries', async () => {
    const https = env.vaultAddr.replace(/^http:/, 'https:');
    const r = await cli(gh(['--account', env.fixtures.account]), {
      ...token(),
      VAULT_ADDR: https,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `Identity: jwt-env.\nIdentity token obtained (${/obtained \((\d+) ms\)/.exec(r.stderr)?.[1]} ms).\n` +
        `error: ${https} answers plain HTTP, not HTTPS: use http://${new URL(https).host} as the Vault address, or enable TLS on Vault's listener.\n`,
    );
  });

  it('a registry that cannot be reached is "could not reach", with docker\'s lines once', async () => {
    const args = gh(['--account', env.fixtures.account]);
    args[args.indexOf('--registry') + 1] = '127.0.0.1:1';
    const r = await cli(args, token());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `error: Could not reach the registry 127.0.0.1:1 to log in as "${env.fixtures.account}": `,
    );
    expect(r.stderr).toContain('Check --registry (host[:port])');
    expect(r.stderr).not.toContain('refused the login');
    expect(r.stderr.match(/connect: connection refused/g)).toHaveLength(1);
    expect(r.stderr).not.toContain('level=info');
  });

  it('a 403 on a KV v2 read names the secret/data/... path', async () => {
    const kv = `${env.fixtures.kvMount}/${env.fixtures.kvPath}`;
    const noData = await cli(gh(['--secret-path', kv]), token());
    expect(noData.code).toBe(1);
    expect(noData.stderr).toContain(`error: Vault denied reading ${kv} (403 permission denied).`);
    expect(noData.stderr).toContain(
      `If ${env.fixtures.kvMount}/ is a KV v2 mount, the path needs /data/ after the mount: ${env.fixtures.kvMount}/data/${env.fixtures.kvPath} (in the secret path and in the policy).`,
    );
    const other = await cli(gh(['--secret-path', 'secret/data/ci/other']), token());
    expect(other.stderr).toContain(
      'A KV v2 policy names the API path, with /data/ after the mount (not the path "vault kv get" shows).',
    );
    expect(other.stderr).toContain('path "secret/data/ci/other" {');
  });

  it('an account or engine mount the policies do not grant is told apart from a missing policy', async () => {
    const account = await cli(gh(['--account', 'nobody']), token());
    expect(account.code).toBe(1);
    expect(account.stderr).toContain(
      `They grant account(s) "${env.fixtures.account}", "${env.fixtures.accountNoAdmin}" on dockerhub/, not "nobody": check --account.`,
    );
    const mount = await cli(
      gh(['--account', env.fixtures.account, '--engine-mount', 'hub']),
      token(),
    );
    expect(mount.stderr).toContain(
      'They grant nothing under hub/ but do under dockerhub/: if the Docker Hub engine is mounted there, set --engine-mount to it.',
    );
  });

  it("the engine's own refusals (unknown account, scope) are explained and asked once", async () => {
    // A token whose policy reaches every account, so the engine itself answers.
    const root = { VAULT_TOKEN: env.rootToken };
    const before = asked(tokenPath('nobody'));
    const unknown = await cli(
      ['login', '--account', 'nobody', '--registry', env.registry.host],
      root,
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      'error: The Docker Hub engine at dockerhub/ has no account "nobody" (nothing at dockerhub/config/nobody).',
    );
    expect(unknown.stderr).toContain('Check --account, or configure the account on the engine:');
    expect(asked(tokenPath('nobody')) - before).toBe(1);
    expect(unknown.stderr).not.toContain('Retrying');

    const scopePath = tokenPath(env.fixtures.accountNoAdmin, 'admin');
    const first = asked(scopePath);
    const scope = await cli(
      [
        'login',
        '--account',
        env.fixtures.accountNoAdmin,
        '--scope',
        'admin',
        '--registry',
        env.registry.host,
      ],
      root,
    );
    expect(scope.stderr).toContain(
      `error: The Docker Hub engine at dockerhub/ does not allow scope "admin" for account "${env.fixtures.accountNoAdmin}".`,
    );
    expect(asked(scopePath) - first).toBe(1);

    const noMount = await cli(
      [
        'login',
        '--account',
        env.fixtures.account,
        '--engine-mount',
        'hub',
        '--registry',
        env.registry.host,
      ],
      root,
    );
    expect(noMount.stderr).toContain(
      'Nothing at hub/token/acmebot/read accepts a write (HTTP 404)',
    );
    expect(noMount.stderr).toContain('No secrets engine serves this path: check --engine-mount');
  });
});
