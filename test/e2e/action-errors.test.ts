// Every failure the Action explains, each with its message, and nothing left behind or leaked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ActionRun, runAction } from '../harness/github-runner.js';
import { startEnv, type TestEnv } from '../harness/index.js';
import { findLeaks } from '../harness/leak.js';

let env: TestEnv;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  expect(env.engine.liveLeases()).toEqual([]);
  await env?.stop();
});

function inputs(extra: Record<string, string> = {}) {
  return {
    url: env.vaultAddr,
    'auth-mount': env.fixtures.githubMount,
    role: env.fixtures.github.role,
    audience: env.fixtures.audience,
    account: env.fixtures.account,
    registry: env.registry.host,
    timeout: '20',
    // These tests are about docker login (credential-helper mode: action-credential-helper.test.ts).
    'credential-helper': 'false',
    ...extra,
  };
}

/** The ::error:: message of a failed main; post must still pass, nothing may leak. */
function failure(run: ActionRun): string {
  expect(run.main.exitCode).toBe(1);
  expect(run.post?.exitCode).toBe(0);
  expect(findLeaks(run.everything, env.secrets(), { allowAddMask: true })).toEqual([]);
  return run.main.commands.find((c) => c.command === 'error')?.message ?? '';
}

function vaultToken(run: ActionRun): string {
  return (JSON.parse(run.state.session ?? '{}') as { vaultToken?: string }).vaultToken ?? '';
}

describe('action errors', () => {
  it('without id-token: write, says to add the permission', async () => {
    const run = await runAction({ env, inputs: inputs(), idToken: false });
    expect(failure(run)).toContain('id-token: write');
    expect(run.post?.output).toContain('Nothing to clean up');
  });

  it('names a role that does not exist', async () => {
    const msg = failure(await runAction({ env, inputs: inputs({ role: 'no-such-role' }) }));
    expect(msg).toContain('role "no-such-role" does not exist on auth mount "github"');
  });

  it('shows the token aud and the audience input on an audience mismatch', async () => {
    const msg = failure(await runAction({ env, inputs: inputs({ audience: 'someone-else' }) }));
    expect(msg).toContain(
      'Token aud: "someone-else". The runner mints the token for the audience input (without it, for https://github.com/<owner>).',
    );
    expect(msg).toContain('bound_audiences');
  });

  it('shows the non-secret claims on a bound-claim mismatch', async () => {
    const role = env.fixtures.github.roleOtherRef;
    const msg = failure(await runAction({ env, inputs: inputs({ role }) }));
    expect(msg).toContain(`repository: "${env.fixtures.github.repository}"`);
    expect(msg).toContain(`ref: "${env.fixtures.github.ref}"`);
    expect(msg).toContain('bound_claims');
  });

  it('on 403 at the engine path shows the path and the policy stanza, and revokes the token', async () => {
    const role = env.fixtures.github.roleNoCreate;
    const run = await runAction({ env, inputs: inputs({ role, scope: 'write' }) });
    const msg = failure(run);
    expect(msg).toContain(`Vault denied writing dockerhub/token/${env.fixtures.account}/write`);
    expect(msg).toContain(`path "dockerhub/token/${env.fixtures.account}/write"`);
    expect(msg).toContain('capabilities = ["create", "update"]');
    expect(await env.vaultTokenAlive(vaultToken(run))).toBe(false);
  });

  it("explains the engine's scope-not-permitted error, without retrying it", async () => {
    const account = env.fixtures.accountNoAdmin;
    const path = `/v1/dockerhub/token/${account}/admin`;
    const asked = () => env.engine.requests.filter((q) => q.path === path).length;
    const before = asked();
    const run = await runAction({ env, inputs: inputs({ account, scope: 'admin' }) });
    const msg = failure(run);
    expect(msg).toContain(
      `The Docker Hub engine at dockerhub/ does not allow scope "admin" for account "${account}".`,
    );
    expect(msg).toContain('the scope input');
    expect(msg).not.toContain('error occurred');
    expect(asked() - before).toBe(1);
    expect(run.main.output).not.toContain('Retrying');
  });

  it('tells an account the policies do not grant apart from a missing policy', async () => {
    const msg = failure(await runAction({ env, inputs: inputs({ account: 'nobody' }) }));
    expect(msg).toContain('Vault denied writing dockerhub/token/nobody/read');
    expect(msg).toContain(
      `They grant account(s) "${env.fixtures.account}", "${env.fixtures.accountNoAdmin}" on dockerhub/, not "nobody": check the account input.`,
    );
  });

  it('a 403 at the login names the auth mount, or the /v1 the address ends in', async () => {
    const mount = failure(await runAction({ env, inputs: inputs({ 'auth-mount': 'nope' }) }));
    expect(mount).toContain('refused auth/nope/login (403 permission denied)');
    expect(mount).toContain(
      'No JWT auth method answers at auth/nope: set the auth-mount input to the path where it is enabled (the default is jwt;',
    );
    const v1 = failure(await runAction({ env, inputs: inputs({ url: `${env.vaultAddr}/v1` }) }));
    expect(v1).toContain(
      'The Vault address ends in /v1, so the login went to /v1/v1/auth/github/login: set the url input to the address without /v1.',
    );
  });

  it('https:// against a plain-HTTP Vault is one sentence and is not retried', async () => {
    const https = env.vaultAddr.replace(/^http:/, 'https:');
    const run = await runAction({ env, inputs: inputs({ url: https }) });
    const host = new URL(https).host;
    expect(failure(run)).toBe(
      `${https} answers plain HTTP, not HTTPS: use http://${host} as the Vault address, or enable TLS on Vault's listener.`,
    );
    expect(run.main.output).not.toMatch(/Retrying|SSL routines/);
  });

  it('a 403 on a KV v2 read names the /data/ path', async () => {
    const kv = `${env.fixtures.kvMount}/${env.fixtures.kvPath}`;
    const msg = failure(
      await runAction({ env, inputs: inputs({ account: '', 'secret-path': kv }) }),
    );
    expect(msg).toContain(
      `If ${env.fixtures.kvMount}/ is a KV v2 mount, the path needs /data/ after the mount: ${env.fixtures.kvMount}/data/${env.fixtures.kvPath}`,
    );
  });

  it('a registry that cannot be reached is "could not reach", with docker\'s lines once', async () => {
    const run = await runAction({ env, inputs: inputs({ registry: '127.0.0.1:1' }) });
    const msg = failure(run);
    expect(msg).toContain(
      `Could not reach the registry 127.0.0.1:1 to log in as "${env.fixtures.account}"`,
    );
    expect(msg).not.toContain('refused the login');
    expect(run.main.output.match(/connect: connection refused/g)).toHaveLength(1);
  });

  it('when the registry refuses the login, says so and revokes the lease before failing', async () => {
    const notARegistry = new URL(env.issuer.url).host;
    const run = await runAction({ env, inputs: inputs({ registry: notARegistry }) });
    const msg = failure(run);
    expect(msg).toContain(
      `The registry ${notARegistry} refused the login for "${env.fixtures.account}"`,
    );
    expect(await env.vaultTokenAlive(vaultToken(run))).toBe(false);
    expect(env.engine.liveLeases()).toEqual([]);
  });

  it.each([
    ['scope', 'superuser', 'must be one of read, write, admin, public_read'],
    ['url', 'ftp://vault', 'must be an http(s) URL'],
    ['account', '../etc', 'must not contain "." or ".." segments'],
    ['engine-mount', '/dockerhub', 'must not start with "/"'],
    ['role', 'a b', 'must not contain whitespace'],
    ['secret-path', 'dockerhub/token/x?y', 'must not contain "?" or "#"'],
    ['label', 'x'.repeat(101), 'at most 100 characters'],
    ['timeout', 'soon', 'whole number'],
  ])('rejects input %s=%s, naming the input', async (name, value, text) => {
    const run = await runAction({ env, inputs: inputs({ [name]: value }) });
    const msg = failure(run);
    expect(msg).toContain(`Input "${name}"`);
    expect(msg).toContain(text);
  });

  it('retries a 503 on the engine path and succeeds', async () => {
    env.engine.faults.add({ path: '/v1/dockerhub/token/', status: 503, times: 1 });
    const run = await runAction({ env, inputs: inputs() });
    expect(run.main.exitCode, run.main.output).toBe(0);
    expect(run.main.output).toMatch(
      /Retrying POST dockerhub\/token\/\S+ in \d+ ms \(retry 1 of 2\)/,
    );
    expect(env.engine.faults.pending()).toBe(0);
  });

  it('a Vault that never answers fails within the timeout, with a message', async () => {
    env.engine.faults.add({ path: '/v1/auth/github/login', delayMs: 30_000, times: 1 });
    const run = await runAction({ env, inputs: inputs({ timeout: '3' }) });
    // The call's limit is what is left of the timeout input when it starts (how long the whole
    // run takes is the benchmark's to measure: scripts/bench/deadlines.ts).
    expect(failure(run)).toMatch(/No answer from .*auth\/github\/login within (3|2\.\d) s/);
    env.engine.faults.clear();
  });
});
