// One Action run (dist main + post through the runner emulator) with the leak checks every
// hardening test repeats: output, GITHUB_ENV / GITHUB_OUTPUT, docker argv, config.json mode.
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { makeArgvRecorder } from '../harness/argv-recorder.js';
import { type ActionRun, type ActionRunOptions, runAction } from '../harness/github-runner.js';
import { expectNoLeaks } from '../harness/leak.js';
import type { TestEnv } from '../harness/types.js';

export interface Job {
  run: ActionRun;
  /** The `::error::` message of main, '' on success. */
  error: string;
  /** Messages of every `::warning::` from every step run so far. */
  warnings(): string[];
  /** Vault token main saved for post ('' when it never got one). */
  vaultToken: string;
  /** Runs post again and repeats the leak checks. */
  post(overrides?: Record<string, string>): Promise<ActionRun['main']>;
  /** Repeats the leak checks over everything so far (after a later post). */
  check(extraSecrets?: string[]): void;
}

/** Inputs for the GitHub fixtures against the plain environment. */
export function baseInputs(env: TestEnv, extra: Record<string, string> = {}) {
  return {
    url: env.vaultAddr,
    'auth-mount': env.fixtures.githubMount,
    role: env.fixtures.github.role,
    audience: env.fixtures.audience,
    account: env.fixtures.account,
    registry: env.registry.host,
    timeout: '20',
    ...extra,
  };
}

export async function actionJob(
  env: TestEnv,
  opts: Omit<ActionRunOptions, 'env' | 'pathPrepend'> & { extraSecrets?: string[] },
): Promise<Job> {
  const dir = join(env.tmpDir, `argv-${randomBytes(4).toString('hex')}`);
  const recorder = makeArgvRecorder(dir, ['docker']);
  // The hardening tests are about docker login; credential-helper mode has its own tests.
  const inputs = { 'credential-helper': 'false', ...opts.inputs };
  const run = await runAction({ ...opts, inputs, env, pathPrepend: [recorder.binDir] });
  const steps = [run.main, ...(run.post ? [run.post] : [])];
  const check = (extra: string[] = []) => {
    const secrets = [...env.secrets(), ...(opts.extraSecrets ?? []), ...extra];
    expectNoLeaks(run.everything, secrets, { allowAddMask: true });
    for (const s of steps) {
      // No add-mask exemption in the runner files: nothing secret belongs there at all.
      expectNoLeaks(`${s.files.output}\n${s.files.env}`, secrets);
      expect(s.files.env).toBe('');
    }
    expectNoLeaks(recorder.argv().flat().join('\n'), secrets);
    const config = join(run.dockerConfig, 'config.json');
    if (existsSync(config)) expect(statSync(config).mode & 0o777).toBe(0o600);
  };
  check();
  const session = JSON.parse(run.state.session ?? '{}') as { vaultToken?: string };
  return {
    run,
    error: run.main.commands.find((c) => c.command === 'error')?.message ?? '',
    warnings: () =>
      steps.flatMap((s) => s.commands.filter((c) => c.command === 'warning').map((c) => c.message)),
    vaultToken: session.vaultToken ?? '',
    async post(overrides) {
      const step = await run.runPost(overrides);
      steps.push(step);
      check();
      return step;
    },
    check,
  };
}

/** Revokes a token (and its leases) a deliberately failed cleanup left behind. */
export async function revokeLeftToken(env: TestEnv, token: string, namespace?: string) {
  const res = await fetch(`${env.vaultAddr}/v1/auth/token/revoke-self`, {
    method: 'POST',
    headers: { 'X-Vault-Token': token, ...(namespace ? { 'X-Vault-Namespace': namespace } : {}) },
  });
  expect(res.status).toBe(204);
}

/** Requests the engine stand-in saw since `from`, as `METHOD path status`. */
export function seenSince(env: TestEnv, from: number): string[] {
  return env.engine.requests.slice(from).map((q) => `${q.method} ${q.path} ${q.status}`);
}
