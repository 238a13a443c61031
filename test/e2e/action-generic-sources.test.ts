// Generic sources through dist/ main + post: KV v2 static credentials, field mapping, a write
// body, and several registries in one step; real OpenBao, registry and docker CLI.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ArgvRecorder, makeArgvRecorder } from '../harness/argv-recorder.js';
import { type ActionRun, runAction } from '../harness/github-runner.js';
import { startEnv, type TestEnv } from '../harness/index.js';
import { expectNoLeaks } from '../harness/leak.js';

let env: TestEnv;
let recorder: ArgvRecorder;
let kvPath: string;
beforeAll(async () => {
  env = await startEnv();
  recorder = makeArgvRecorder(env.tmpDir, ['docker']);
  kvPath = `${env.fixtures.kvMount}/data/${env.fixtures.kvPath}`;
});
afterAll(async () => {
  await env?.stop();
});

const login = () => ({
  url: env.vaultAddr,
  'auth-mount': env.fixtures.githubMount,
  role: env.fixtures.github.role,
  audience: env.fixtures.audience,
  // docker login with each source (credential-helper mode: action-credential-helper.test.ts).
  'credential-helper': 'false',
});

const run = (inputs: Record<string, string>) =>
  runAction({ env, inputs: { ...login(), ...inputs }, pathPrepend: [recorder.binDir] });

function auths(dockerConfig: string): Record<string, { auth?: string }> {
  const text = readFileSync(join(dockerConfig, 'config.json'), 'utf8');
  return (JSON.parse(text) as { auths?: Record<string, { auth?: string }> }).auths ?? {};
}

const vaultTokenOf = (r: ActionRun) =>
  (JSON.parse(r.state.session ?? '{}') as { vaultToken?: string }).vaultToken ?? '';

/** No secret in any output, runner file or docker argv. */
function noLeaks(r: ActionRun) {
  expectNoLeaks(r.everything, env.secrets(), { allowAddMask: true });
  expectNoLeaks(recorder.argv().flat().join('\n'), env.secrets());
}

describe('action: generic credential sources', () => {
  it('logs in with a static KV v2 secret (read by default); post logs out, nothing to revoke but the token', async () => {
    const r = await run({ 'secret-path': kvPath, registry: env.registry.host });
    expect(r.main.exitCode, r.main.output).toBe(0);
    expect(r.outputs).toMatchObject({
      username: env.fixtures.kvUsername,
      registry: env.registry.host,
      'lease-id': '',
      'lease-duration': '0',
      'expires-at': '',
    });
    expect(r.main.output).toContain(`from ${kvPath}: a static secret, no lease to revoke (read, `);
    const seen = env.engine.requests.filter((q) => q.path === `/v1/${kvPath}`);
    expect(seen.at(-1)?.method).toBe('GET');
    expect(r.post?.exitCode).toBe(0);
    expect(r.post?.commands.filter((c) => c.command === 'warning')).toEqual([]);
    expect(r.post?.output).toContain(`docker logout from ${env.registry.host}.`);
    expect(r.post?.output).not.toContain('Lease');
    expect(auths(r.dockerConfig)[env.registry.host]).toBeUndefined();
    expect(await env.vaultTokenAlive(vaultTokenOf(r))).toBe(false);
    noLeaks(r);
  });

  it('maps explicit fields; a missing field fails naming the fields present, never a value', async () => {
    const ok = await run({
      'secret-path': kvPath,
      registry: env.registry.host,
      'username-field': 'username',
      'password-field': 'password',
    });
    expect(ok.main.exitCode, ok.main.output).toBe(0);
    noLeaks(ok);

    const bad = await run({
      'secret-path': kvPath,
      registry: env.registry.host,
      'password-field': 'pat',
    });
    expect(bad.main.exitCode).toBe(1);
    const error = bad.main.commands.find((c) => c.command === 'error')?.message ?? '';
    expect(error).toContain(
      `The answer at ${kvPath} (data.data) has no non-empty text field "pat" (the password-field input); fields present: password, username.`,
    );
    // Main revoked its own token before failing.
    expect(await env.vaultTokenAlive(vaultTokenOf(bad))).toBe(false);
    noLeaks(bad);
  });

  it('sends secret-body with an engine write', async () => {
    const path = `${env.fixtures.engineMount}/token/${env.fixtures.account}/read`;
    const r = await runAction({
      env,
      inputs: {
        ...login(),
        'secret-path': path,
        'secret-body': '{"label": "custom label"}',
        registry: env.registry.host,
      },
      post: false,
      pathPrepend: [recorder.binDir],
    });
    expect(r.main.exitCode, r.main.output).toBe(0);
    expect(r.main.output).toContain(`from ${path}: lease ${r.outputs['lease-id']}, 300 s (write, `);
    expect(env.hub.liveTokens().map((t) => t.label)).toContain('custom label');
    await r.runPost();
    expect(env.engine.liveLeases()).not.toContain(r.outputs['lease-id']);
    noLeaks(r);
  });

  it('a 403 on a read source asks for the read capability, and main revokes its token', async () => {
    const path = `${env.fixtures.kvMount}/data/registry/elsewhere`;
    const r = await run({ 'secret-path': path, registry: env.registry.host });
    expect(r.main.exitCode).toBe(1);
    expect(r.main.output).toContain(`Vault denied reading ${path} (403 permission denied).`);
    expect(r.main.output).toContain('capabilities = ["read"]');
    expect(await env.vaultTokenAlive(vaultTokenOf(r))).toBe(false);
    noLeaks(r);
  });

  it('rejects a body with a read, naming both inputs', async () => {
    const r = await run({
      'secret-path': kvPath,
      'secret-body': '{}',
      registry: env.registry.host,
    });
    expect(r.main.exitCode).toBe(1);
    expect(r.main.output).toContain(
      'Input "secret-body": is only sent with a write; set secret-method to write',
    );
    expect(r.main.output).not.toContain('Identity token obtained');
  });
});

describe('action: several registries in one step', () => {
  it('logs in to two registry names from two sources with one Vault login; post cleans up both', async () => {
    const port = env.registry.host.split(':')[1];
    const local = `localhost:${port}`;
    const logins = () => env.engine.requests.filter((q) => q.path.endsWith('/login')).length;
    const before = logins();
    const r = await run({
      registries: [
        `- registry: ${env.registry.host}`,
        `  secret-path: ${env.fixtures.engineMount}/token/${env.fixtures.account}/write`,
        `- registry: ${local}`,
        `  secret_path: ${kvPath}`,
        '  username_field: username',
      ].join('\n'),
    });
    expect(r.main.exitCode, r.main.output).toBe(0);
    expect(logins() - before).toBe(1);
    const all = JSON.parse(r.outputs.registries ?? '[]') as Record<string, string>[];
    expect(all.map((e) => [e.registry, e.username])).toEqual([
      [env.registry.host, env.fixtures.account],
      [local, env.fixtures.kvUsername],
    ]);
    const leaseId = all[0]?.['lease-id'] ?? '';
    expect(leaseId).toMatch(new RegExp(`^${env.fixtures.engineMount}/token/`));
    expect(all[1]?.['lease-id']).toBe('');
    expect(r.outputs.username).toBe(env.fixtures.account);
    expect(r.outputs['lease-id']).toBe(leaseId);

    // Post ran: both keys gone from config.json, the lease and the token dead.
    expect(r.post?.exitCode).toBe(0);
    expect(r.post?.commands.filter((c) => c.command === 'warning')).toEqual([]);
    const left = auths(r.dockerConfig);
    expect(left[env.registry.host]).toBeUndefined();
    expect(left[local]).toBeUndefined();
    expect(r.post?.output).toContain(`docker logout from ${local}.`);
    expect(env.engine.liveLeases()).not.toContain(leaseId);
    expect(env.hub.liveTokens()).toEqual([]);
    expect(await env.vaultTokenAlive(vaultTokenOf(r))).toBe(false);
    noLeaks(r);
  });

  it('keeps both logins until post, then the registry refuses the leased token', async () => {
    const port = env.registry.host.split(':')[1];
    const r = await runAction({
      env,
      inputs: {
        ...login(),
        registries: JSON.stringify([
          {
            registry: env.registry.host,
            secret_path: `${env.fixtures.engineMount}/token/${env.fixtures.account}/read`,
          },
          { registry: `localhost:${port}`, 'secret-path': kvPath },
        ]),
      },
      post: false,
      pathPrepend: [recorder.binDir],
    });
    expect(r.main.exitCode, r.main.output).toBe(0);
    const a = auths(r.dockerConfig);
    expect(Object.keys(a).sort()).toEqual([env.registry.host, `localhost:${port}`].sort());
    const [user = '', secret = ''] = Buffer.from(a[env.registry.host]?.auth ?? '', 'base64')
      .toString()
      .split(':');
    expect(await env.registry.canLogin(user, secret)).toBe(true);
    const post = await r.runPost();
    expect(post.exitCode).toBe(0);
    expect(await env.registry.canLogin(user, secret)).toBe(false);
    expect(Object.keys(auths(r.dockerConfig))).toEqual([]);
    noLeaks(r);
  });

  it('rejects registries together with a single-registry input, and a duplicate registry', async () => {
    const both = await run({ registries: `- secret_path: ${kvPath}`, registry: 'ghcr.io' });
    expect(both.main.exitCode).toBe(1);
    expect(both.main.output).toContain('Input "registries": replaces registry, which are set too');
    const dup = await run({
      registries: `- secret_path: ${kvPath}\n- registry: docker.io\n  secret_path: ${kvPath}`,
    });
    expect(dup.main.exitCode).toBe(1);
    expect(dup.main.output).toContain('Input "registries[1].registry": "docker.io" appears twice');
    const yaml = await run({ registries: '- registry: [' });
    expect(yaml.main.output).toContain('Input "registries": is not valid YAML');
  });
});
