// Docs are code. Every block marked `<!-- snippet: NAME -->` in README.md and docs/ runs here,
// verbatim, with bash and the real `bao` CLI (as `vault`), against an OpenBao that starts empty,
// with the Docker Hub engine stand-in in front. The public issuer URLs in the snippets stay as
// written: OpenBao reaches them through the harness's TLS-terminating proxy (PublicIssuers). Then
// the Action, the orb and the CLI log in against exactly what the snippets created.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ArgvRecorder, makeArgvRecorder } from '../harness/argv-recorder.js';
import { snippets } from '../harness/doc-snippets.js';
import { runAction } from '../harness/github-runner.js';
import { startEnv, type TestEnv } from '../harness/index.js';
import { issuerPublicKeyPem } from '../harness/issuer-key.js';
import { expectNoLeaks } from '../harness/leak.js';
import { run } from '../harness/procs.js';
import { expectNothingAlive } from './expect-clean.js';
import { orbJob } from './orb-job.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'index.js');

/** The example values the pages use: the tests log in as those jobs. */
const DOCS = {
  account: 'myorg-bot',
  repository: 'myorg/myrepo',
  audience: 'vault-docker-login',
  kvUser: 'myorg-ci',
  kvPath: 'secret/data/ci/registry',
  github: { mount: 'github', role: 'ci-dockerhub', kvRole: 'ci-registry' },
  circleci: { mount: 'circleci', role: 'ci-images' },
  gitlab: { mount: 'gitlab', role: 'gl-build' },
  buildkite: { mount: 'buildkite', role: 'bk-build' },
};
const ORG_ID = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const PROJECT_ID = '9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f';
const PASSWORD = `hub-${Math.random().toString(36).slice(2)}-${Date.now()}`;
const REGISTRY_TOKEN = `dckr_pat_${Math.random().toString(36).slice(2)}${Date.now()}`;

/** What a snippet's output must show, beyond exiting 0. */
const SHOWS: Record<string, RegExp> = {
  'engine-config-read': /namespace\s+\[read write\]/,
};

let env: TestEnv;
let recorder: ArgvRecorder;
let shim: string;
let printed = '';

beforeAll(async () => {
  env = await startEnv({ emptyVault: true, publicIssuers: true });
  // What exists before anyone configures Vault: the Docker Hub account, and a token for the
  // registry kept in KV.
  env.hub.addAccount(DOCS.account, PASSWORD);
  env.registry.addSecret(DOCS.kvUser, REGISTRY_TOKEN, ['pull', 'push']);
  recorder = makeArgvRecorder(env.tmpDir, ['bao', 'docker']);
  shim = join(env.tmpDir, 'vault-shim');
  mkdirSync(shim);
  // The bao CLI takes the vault CLI's commands and VAULT_* variables.
  writeFileSync(join(shim, 'vault'), '#!/bin/sh\nexec bao "$@"\n');
  chmodSync(join(shim, 'vault'), 0o755);
  // The kubelet page's cluster issuer: ISSUER (below), and its signing key as the API server's
  // sa.pub, played by the test issuer.
  writeFileSync(join(env.tmpDir, 'sa.pub'), await issuerPublicKeyPem(env.issuer.url));
});
afterAll(async () => {
  if (!env) return;
  expectNothingAlive(env);
  const secrets = [...env.secrets(), PASSWORD, REGISTRY_TOKEN];
  expectNoLeaks(printed, secrets, { allowAddMask: true });
  expectNoLeaks(recorder.argv().flat().join('\n'), secrets);
  await env.stop();
});

async function sh(code: string): Promise<{ code: number | null; output: string }> {
  const file = join(env.tmpDir, `snippet-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(file, code);
  const r = await run('bash', ['-e', '-o', 'pipefail', file], {
    cwd: env.tmpDir,
    env: {
      PATH: [shim, recorder.binDir, process.env.PATH].join(':'),
      HOME: env.tmpDir,
      VAULT_ADDR: env.vaultAddr,
      VAULT_TOKEN: env.rootToken,
      DOCKERHUB_PASSWORD: PASSWORD,
      REGISTRY_TOKEN,
      CIRCLECI_ORG_ID: ORG_ID,
      CIRCLECI_PROJECT_ID: PROJECT_ID,
      ISSUER: env.issuer.url,
    },
  });
  const output = `${r.stdout}${r.stderr}`;
  printed += `${output}\n`;
  return { code: r.code, output };
}

/** What a Vault token may do on each path (sys/capabilities, asked with the root token). */
async function capabilities(token: string, paths: string[]): Promise<Record<string, string[]>> {
  const r = await fetch(`${env.baoAddr}/v1/sys/capabilities`, {
    method: 'POST',
    headers: { 'X-Vault-Token': env.rootToken },
    body: JSON.stringify({ token, paths }),
  });
  const body = (await r.json()) as { data: Record<string, string[]> };
  return Object.fromEntries(paths.map((p) => [p, body.data[p] ?? []]));
}

/** The newest Vault token a login received: it may reach `own` and none of the `others`. */
async function expectOnly(own: string, need: string, others: string[]): Promise<void> {
  const token = env.engine.vaultTokens().at(-1) ?? '';
  const caps = await capabilities(token, [own, ...others]);
  expect(caps[own]).toContain(need);
  for (const p of others) expect(caps[p], p).toEqual(['deny']);
}

const ENGINE_PATHS = ['read', 'write', 'admin'].map((s) => `dockerhub/token/${DOCS.account}/${s}`);

describe('documentation snippets, run verbatim', () => {
  const all = snippets();
  it('finds the snippets of the Vault setup and engine pages', () => {
    const files = new Set(all.map((s) => s.file));
    expect(files).toContain('docs/vault-setup.md');
    expect(files).toContain('docs/dockerhub-engine.md');
  });

  it.each(all.map((s) => [`${s.file} ${s.name}`, s] as const))('%s', async (_, s) => {
    const r = await sh(s.code);
    expect(r.code, `${s.file}:${s.line} (${s.name}) failed:\n${r.output}`).toBe(0);
    const shows = SHOWS[s.name];
    if (shows) expect(r.output).toMatch(shows);
  });

  it('refuses the key=value form of bound_claims the setup page warns against', async () => {
    const r = await sh(
      `vault write auth/github/role/claims-as-text role_type=jwt user_claim=repository \\
  bound_audiences=${DOCS.audience} bound_claims='{"repository":"${DOCS.repository}"}'\n`,
    );
    expect(r.code).not.toBe(0);
    expect(r.output).toContain("got unconvertible type 'string'");
  });

  it('reached the public issuers through the proxy, and nothing else', () => {
    const connects = (env.publicIssuers?.requests() ?? []).filter((r) => r.startsWith('CONNECT'));
    expect(new Set(connects)).toEqual(
      new Set([
        'CONNECT token.actions.githubusercontent.com:443',
        'CONNECT oidc.circleci.com:443',
        'CONNECT gitlab.com:443',
        'CONNECT agent.buildkite.com:443',
      ]),
    );
  });
});

describe('logins against what the snippets created', () => {
  const iss = (kind: 'github' | 'circleci' | 'gitlab' | 'buildkite') =>
    env.publicIssuers?.issuerUrl(kind, ORG_ID) ?? '';

  it('the Action (GitHub role ci-dockerhub, engine account myorg-bot)', async () => {
    env.issuer.setClaims('github', {
      iss: iss('github'),
      repository: DOCS.repository,
      repository_owner: 'myorg',
      sub: `repo:${DOCS.repository}:ref:refs/heads/main`,
    });
    const run = await runAction({
      env,
      inputs: {
        url: env.vaultAddr,
        'auth-mount': DOCS.github.mount,
        role: DOCS.github.role,
        audience: DOCS.audience,
        account: DOCS.account,
        scope: 'read',
        registry: env.registry.host,
      },
      post: false,
      pathPrepend: [recorder.binDir],
    });
    printed += run.everything;
    expect(run.main.exitCode, run.main.output).toBe(0);
    expect(run.outputs.username).toBe(DOCS.account);
    await expectOnly(ENGINE_PATHS[0] ?? '', 'create', [...ENGINE_PATHS.slice(1), DOCS.kvPath]);
    const post = await run.runPost();
    printed += run.everything;
    expect(post.exitCode, post.output).toBe(0);
    expectNothingAlive(env);
  });

  it('the Action (GitHub role ci-registry, the KV v2 secret)', async () => {
    const run = await runAction({
      env,
      inputs: {
        url: env.vaultAddr,
        'auth-mount': DOCS.github.mount,
        role: DOCS.github.kvRole,
        audience: DOCS.audience,
        'secret-path': DOCS.kvPath,
        registry: env.registry.host,
      },
      post: false,
    });
    printed += run.everything;
    expect(run.main.exitCode, run.main.output).toBe(0);
    expect(run.outputs.username).toBe(DOCS.kvUser);
    await expectOnly(DOCS.kvPath, 'read', ENGINE_PATHS);
    const post = await run.runPost();
    expect(post.exitCode, post.output).toBe(0);
  });

  it('the orb (CircleCI role ci-images, audience minted with circleci run oidc get)', async () => {
    const token = env.issuer.circleciToken({
      v2: true,
      claims: {
        iss: iss('circleci'),
        aud: DOCS.audience,
        'oidc.circleci.com/org-id': ORG_ID,
        'oidc.circleci.com/project-id': PROJECT_ID,
      },
    });
    const job = await orbJob(env, {
      login: {
        auth_mount: DOCS.circleci.mount,
        role: DOCS.circleci.role,
        audience: DOCS.audience,
        account: DOCS.account,
        scope: 'write',
        registry: env.registry.host,
      },
      logout: false,
      oidcTokens: { [DOCS.audience]: token },
      extraSecrets: [PASSWORD, REGISTRY_TOKEN],
    });
    printed += job.output;
    expect(job.success, job.output).toBe(true);
    await expectOnly(ENGINE_PATHS[1] ?? '', 'create', [
      ENGINE_PATHS[0] ?? '',
      ENGINE_PATHS[2] ?? '',
      DOCS.kvPath,
    ]);
    const out = await job.logoutLater();
    printed += out.output;
    expect(out.success, out.output).toBe(true);
    expectNothingAlive(env);
  });

  /** The CLI as a GitLab or Buildkite job runs it, in a job directory of its own. */
  async function cli(args: string[], extra: Record<string, string>, dir: string) {
    mkdirSync(join(dir, 'run'), { recursive: true });
    const r = await run(process.execPath, [CLI, ...args], {
      env: {
        PATH: [recorder.binDir, process.env.PATH].join(':'),
        HOME: dir,
        DOCKER_CONFIG: join(dir, 'docker'),
        XDG_RUNTIME_DIR: join(dir, 'run'),
        VAULT_ADDR: env.vaultAddr,
        ...extra,
      },
    });
    const out = `${r.stdout}${r.stderr}`;
    printed += `${out}\n`;
    return { code: r.code, out };
  }

  /** The CLI examples' login: a write token for the engine account, to the test registry. */
  const engineLogin = (ci: { mount: string; role: string }) => [
    'login',
    '--auth-mount',
    ci.mount,
    '--role',
    ci.role,
    '--account',
    DOCS.account,
    '--scope',
    'write',
    '--registry',
    env.registry.host,
  ];

  it('the CLI in GitLab CI (role gl-build, id_tokens VAULT_ID_TOKEN)', async () => {
    const dir = join(env.tmpDir, 'gitlab-job');
    const jwt = env.issuer.gitlabToken({
      claims: { iss: iss('gitlab'), project_path: DOCS.repository },
    });
    const login = engineLogin(DOCS.gitlab);
    const r = await cli(login, { GITLAB_CI: 'true', VAULT_ID_TOKEN: jwt }, dir);
    expect(r.code, r.out).toBe(0);
    expect(readFileSync(join(dir, 'docker', 'config.json'), 'utf8')).toContain(env.registry.host);
    await expectOnly(ENGINE_PATHS[1] ?? '', 'create', [ENGINE_PATHS[2] ?? '', DOCS.kvPath]);
    expect((await cli(['logout'], {}, dir)).code).toBe(0);
    expect(
      existsSync(join(dir, 'run', `vault-docker-login-${process.getuid?.()}`, 'default.json')),
    ).toBe(false);
    expectNothingAlive(env);
  });

  it("the CLI's whole-job example (docs/cli.md, --credential-helper), its vault-docker-login lines verbatim", async () => {
    const dir = join(env.tmpDir, 'gitlab-job-helper');
    mkdirSync(join(dir, 'run'), { recursive: true });
    mkdirSync(join(dir, 'bin'), { recursive: true });
    const jwt = env.issuer.gitlabToken({
      claims: { iss: iss('gitlab'), project_path: DOCS.repository },
    });
    // `npx vault-docker-login` is the CLI of this checkout.
    writeFileSync(
      join(dir, 'bin', 'npx'),
      `#!/bin/sh\nshift\nexec "${process.execPath}" "${CLI}" "$@"\n`,
    );
    chmodSync(join(dir, 'bin', 'npx'), 0o755);
    const doc = readFileSync(join(dirname(CLI), '..', '..', 'docs', 'cli.md'), 'utf8');
    const block =
      /For credentials valid for the whole job[^`]*```sh\n([^`]*)```/.exec(doc)?.[1] ?? '';
    const lines = block.split('\n').filter((l) => l.includes('vault-docker-login'));
    expect(lines).toHaveLength(2);
    // Between login and logout, docker's question for Docker Hub, asked as docker asks it.
    const script = [
      lines[0],
      `printf 'https://index.docker.io/v1/' | docker-credential-vault get > "$HOME/answer"`,
      'printf %s "$DOCKER_CONFIG" > "$HOME/docker-config"',
      lines[1],
    ].join('\n');
    const r = await run('bash', ['-e', '-c', script], {
      env: {
        PATH: [join(dir, 'bin'), recorder.binDir, process.env.PATH].join(':'),
        HOME: dir,
        XDG_RUNTIME_DIR: join(dir, 'run'),
        TMPDIR: dir,
        VAULT_ADDR: env.vaultAddr,
        GITLAB_CI: 'true',
        CI_JOB_ID: '4711',
        VAULT_ID_TOKEN: jwt,
      },
    });
    printed += `${r.stdout}${r.stderr}\n`;
    expect(r.code, r.stderr).toBe(0);
    const answer = JSON.parse(readFileSync(join(dir, 'answer'), 'utf8'));
    expect(answer.Username).toBe(DOCS.account);
    printed += readFileSync(join(dir, 'docker-config'), 'utf8');
    expect(existsSync(readFileSync(join(dir, 'docker-config'), 'utf8'))).toBe(false);
    expect(r.stderr).toContain('Removed the job directory');
    expectNothingAlive(env);
  });

  it('the CLI with a Buildkite token (role bk-build)', async () => {
    const dir = join(env.tmpDir, 'buildkite-job');
    const jwt = env.issuer.buildkiteToken({
      claims: { iss: iss('buildkite'), organization_slug: 'myorg', pipeline_slug: 'myrepo' },
    });
    const login = [...engineLogin(DOCS.buildkite), '--jwt-env', 'BUILDKITE_JWT'];
    const r = await cli(login, { BUILDKITE_JWT: jwt }, dir);
    expect(r.code, r.out).toBe(0);
    expect((await cli(['logout'], {}, dir)).code).toBe(0);
    expectNothingAlive(env);
  });
});
