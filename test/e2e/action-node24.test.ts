// The Action's bundles on the runtime action.yml declares (node24), not only on the machine's
// Node: main, post, and a main that fails after the lease exists (and so revokes it itself).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '../harness/github-runner.js';
import { type DaemonEnv, startEnv } from '../harness/index.js';
import { expectNoLeaks } from '../harness/leak.js';
import { node24 } from '../harness/node24.js';
import { expectNothingAlive } from './expect-clean.js';
import { expectPullRefused, expectPullWorks } from './expect-pull.js';

let env: DaemonEnv;
let node: string;
let printed = '';
beforeAll(async () => {
  node = node24();
  env = await startEnv({ daemon: true });
});
afterEach(() => expectNothingAlive(env));
afterAll(async () => {
  if (!env) return;
  expectNoLeaks(printed, env.secrets(), { allowAddMask: true });
  await env.stop();
});

const inputs = (extra: Record<string, string> = {}) => ({
  url: env.vaultAddr,
  'auth-mount': env.fixtures.githubMount,
  role: env.fixtures.github.role,
  audience: env.fixtures.audience,
  account: env.fixtures.account,
  registry: env.registry.host,
  'credential-helper': 'false',
  ...extra,
});

describe('the Action on Node 24', () => {
  it('main logs in with a leased token that pulls the private image; post revokes it', async () => {
    const run = await runAction({
      env,
      inputs: inputs(),
      node,
      post: false,
      extraEnv: env.daemon.env(),
    });
    printed += run.everything;
    expect(run.main.exitCode, run.main.output).toBe(0);
    const lease = run.outputs['lease-id'] ?? '';
    expect(env.engine.liveLeases()).toEqual([lease]);
    const before = await expectPullWorks(env, run.dockerConfig);

    const post = await run.runPost();
    printed += run.everything;
    expect(post.exitCode, post.output).toBe(0);
    expect(post.output).toMatch(/Vault token revoked/);
    await expectPullRefused(env, run.dockerConfig, before);
  });

  it('a main that fails after the lease revokes what it got, and post has nothing left to do', async () => {
    const run = await runAction({ env, inputs: inputs({ registry: '127.0.0.1:1' }), node });
    printed += run.everything;
    expect(run.main.exitCode).toBe(1);
    expect(run.main.output).toMatch(/revoking what it issued/);
    expect(run.main.output).toMatch(/Vault token revoked/);
    expect(run.post?.exitCode).toBe(0);
    expect(run.post?.output).toMatch(/Already cleaned up|Nothing to clean up/);
  });
});
