// The happy path through dist/ main + post, checked against the real registry, OpenBao, stand-ins
// and a real Docker daemon that pulls a private image with the credential.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeArgvRecorder } from '../harness/argv-recorder.js';
import { runAction } from '../harness/github-runner.js';
import { type DaemonEnv, startEnv } from '../harness/index.js';
import { findLeaks, maskedBeforeUse } from '../harness/leak.js';
import { expectLoginThroughDaemon, expectPullRefused, expectPullWorks } from './expect-pull.js';

let env: DaemonEnv;
beforeAll(async () => {
  env = await startEnv({ daemon: true });
});
afterAll(async () => {
  await env?.stop();
});

function inputs(extra: Record<string, string> = {}) {
  return {
    url: env.vaultAddr,
    'auth-mount': env.fixtures.githubMount,
    role: env.fixtures.github.role,
    audience: env.fixtures.audience,
    account: env.fixtures.account,
    scope: 'write',
    registry: env.registry.host,
    // These tests are about docker login (credential-helper mode: action-credential-helper.test.ts).
    'credential-helper': 'false',
    ...extra,
  };
}

function dockerAuth(dockerConfig: string) {
  const file = join(dockerConfig, 'config.json');
  const cfg = JSON.parse(readFileSync(file, 'utf8')) as {
    auths?: Record<string, { auth?: string }>;
  };
  return { file, auth: cfg.auths?.[env.registry.host]?.auth };
}

describe('action main + post', () => {
  it('logs in through the daemon, pulls a private image, then logs out and revokes everything', async () => {
    const recorder = makeArgvRecorder(env.tmpDir, ['docker']);
    const run = await runAction({
      env,
      inputs: inputs(),
      post: false,
      pathPrepend: [recorder.binDir],
      // As on a runner: docker login goes through the daemon.
      extraEnv: env.daemon.env(),
    });
    expect(run.main.exitCode, run.main.output).toBe(0);

    expect(run.outputs.username).toBe(env.fixtures.account);
    expect(run.outputs.registry).toBe(env.registry.host);
    const leaseId = run.outputs['lease-id'] ?? '';
    expect(leaseId).toMatch(new RegExp(`^dockerhub/token/${env.fixtures.account}/write/`));
    expect(run.outputs['lease-duration']).toBe('300');
    const expires = Date.parse(run.outputs['expires-at'] ?? '');
    expect(Math.abs(expires - (Date.now() + 300_000))).toBeLessThan(60_000);
    expect(env.engine.liveLeases()).toContain(leaseId);
    expect(env.hub.liveTokens().map((t) => t.label)).toContain('acme/widgets run 4242 attempt 1');

    // config.json holds the credential, mode 0600, and the registry accepts it.
    const { file, auth = '' } = dockerAuth(run.dockerConfig);
    const [user = '', secret = ''] = Buffer.from(auth, 'base64').toString().split(':');
    expect(user).toBe(env.fixtures.account);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expectLoginThroughDaemon(env, user);
    expect(await env.registry.canLogin(user, secret)).toBe(true);
    const before = await expectPullWorks(env, run.dockerConfig);

    // The Vault token, the registry token and base64 user:token are masked, and shown nowhere else.
    const masks = run.main.commands.filter((c) => c.command === 'add-mask').map((c) => c.message);
    const vaultToken =
      (JSON.parse(run.state.session ?? '{}') as { vaultToken?: string }).vaultToken ?? '';
    expect(masks).toEqual(expect.arrayContaining([secret, auth, vaultToken]));
    expect(await env.vaultTokenAlive(vaultToken)).toBe(true);
    expect(run.main.files.output).not.toContain(secret);
    expect(run.main.files.env).toBe('');

    // Post, as the runner runs it (STATE_* from main's state file): all of it is gone.
    const post = await run.runPost();
    expect(post.exitCode, post.output).toBe(0);
    expect(post.commands.filter((c) => c.command === 'warning')).toEqual([]);
    expect(dockerAuth(run.dockerConfig).auth).toBeUndefined();
    expect(await env.registry.canLogin(user, secret)).toBe(false);
    await expectPullRefused(env, run.dockerConfig, before);
    expect(env.engine.liveLeases()).not.toContain(leaseId);
    expect(await env.vaultTokenAlive(vaultToken)).toBe(false);
    expect(findLeaks(run.everything, env.secrets(), { allowAddMask: true })).toEqual([]);
    for (const s of [secret, auth, vaultToken])
      expect(maskedBeforeUse(run.everything, s)).toBe(true);
    // docker ran with the secret on stdin only: login then logout, no secret in any argv.
    const argv = recorder.argv();
    expect(argv.map((a) => a[1])).toEqual(['login', 'logout']);
    expect(findLeaks(argv.map((a) => a.join(' ')).join('\n'), env.secrets())).toEqual([]);
  });

  it('revokes the lease explicitly when allowed, and a second post is harmless', async () => {
    const run = await runAction({
      env,
      inputs: inputs({ role: env.fixtures.github.roleCanRevoke, scope: 'read' }),
    });
    expect(run.main.exitCode, run.main.output).toBe(0);
    expect(run.post?.output).toContain(`Lease ${run.outputs['lease-id']} revoked.`);
    expect(env.engine.liveLeases()).not.toContain(run.outputs['lease-id']);
    const again = await run.runPost();
    expect(again.exitCode).toBe(0);
    expect(again.output).toContain('Already cleaned up');
    expect(findLeaks(run.everything, env.secrets(), { allowAddMask: true })).toEqual([]);
  });

  it('with logout and revoke off, post leaves the login and lease and says when it expires', async () => {
    const run = await runAction({ env, inputs: inputs({ logout: 'false', revoke: 'false' }) });
    expect(run.main.exitCode, run.main.output).toBe(0);
    expect(run.post?.output).toContain(`expires on its own at ${run.outputs['expires-at']}`);
    expect(dockerAuth(run.dockerConfig).auth).toBeDefined();
    expect(env.engine.liveLeases()).toContain(run.outputs['lease-id']);
    // Clean up what this test deliberately left.
    await run.runPost({ INPUT_LOGOUT: 'true', INPUT_REVOKE: 'true' });
    expect(env.engine.liveLeases()).not.toContain(run.outputs['lease-id']);
    expect(findLeaks(run.everything, env.secrets(), { allowAddMask: true })).toEqual([]);
  });
});
