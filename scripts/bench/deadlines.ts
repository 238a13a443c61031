// How long a step takes when Vault never answers or keeps refusing, against what the `timeout`
// input promises. These bounds were once wall-clock assertions inside the end-to-end tests, where
// a loaded machine made them fail; the tests now check the behaviour (attempts, messages) and the
// benchmark times it. Each check: the median of a few runs within the timeout plus an allowance for
// starting the process.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { runJob } from '../../test/harness/circleci-runner.js';
import { runAction } from '../../test/harness/github-runner.js';
import type { TestEnv } from '../../test/harness/types.js';
import { actionInputs, vault } from './action.js';
import { add, fmt, median, type Series } from './stats.js';

/** What starting the step's process and the docker CLI may add to the timeout. */
const ALLOWANCE_MS = 2500;

export interface DeadlineCheck {
  label: string;
  ok: boolean;
  line: string;
}

/** Leases a step could not revoke (Vault was made to hang): revoked here, as root. */
async function revokeLeft(env: TestEnv): Promise<void> {
  env.engine.faults.clear();
  for (const lease of env.engine.liveLeases())
    await vault(`${env.vaultAddr}/v1/sys/leases/revoke`, 'PUT', { lease_id: lease }, env.rootToken);
}

export async function benchDeadlines(
  env: TestEnv,
  runs: number,
): Promise<{ series: Series; checks: DeadlineCheck[] }> {
  const fx = env.fixtures;
  const login = `/v1/auth/${fx.githubMount}/login`;
  const lease = `/v1/${fx.engineMount}/token/`;
  const series: Series = {};
  const bounds: Record<string, number> = {};
  /** `boundMs`: the timeout plus the allowance unless the step must end sooner. */
  const scenario = async (
    label: string,
    timeoutS: number,
    run: () => Promise<number>,
    boundMs = timeoutS * 1000 + ALLOWANCE_MS,
  ) => {
    bounds[label] = boundMs;
    for (let i = 0; i < runs; i++) {
      add(series, label, await run());
      await revokeLeft(env);
    }
  };
  const main = async (inputs: Record<string, string>) => {
    const r = await runAction({ env, inputs: { ...actionInputs(env), ...inputs } });
    if (r.main.exitCode === 0) throw new Error('the Action step succeeded against a failing Vault');
    return r.main.ms;
  };

  await scenario('Action main, the login never answers (timeout 3)', 3, () => {
    env.engine.faults.add({ path: login, delayMs: 30_000, times: 1 });
    return main({ timeout: '3' });
  });
  // A Retry-After beyond the deadline is not waited for: the step ends well before its timeout.
  await scenario(
    'Action main, 429 with Retry-After 30 (timeout 3, retries 5)',
    3,
    () => {
      env.engine.faults.add({ path: login, status: 429, retryAfter: 30, times: 5 });
      return main({ timeout: '3', retries: '5' });
    },
    2500,
  );
  await scenario('Action main, 502s after 1.2 s (timeout 4, retries 10)', 4, () => {
    env.engine.faults.add({ path: lease, status: 502, delayMs: 1200, times: 20 });
    return main({ timeout: '4', retries: '10' });
  });
  await scenario('Action post, both revocations hang (timeout 3)', 3, async () => {
    const r = await runAction({ env, inputs: { ...actionInputs(env), timeout: '3' }, post: false });
    if (r.main.exitCode !== 0) throw new Error(`Action main failed:\n${r.main.output}`);
    env.engine.faults.add({ path: '/v1/sys/leases/revoke', delayMs: 20_000, times: 10 });
    env.engine.faults.add({ path: '/v1/auth/token/revoke-self', delayMs: 20_000, times: 10 });
    const post = await r.runPost();
    return post.ms;
  });
  await scenario('Orb login, the login never answers (timeout 3)', 3, async () => {
    env.engine.faults.add({
      path: `/v1/auth/${fx.circleciMount}/login`,
      delayMs: 60_000,
      times: 1,
    });
    const r = await runJob({
      dir: mkdtempSync(join(env.tmpDir, 'bench-deadline-')),
      steps: [
        {
          orb: 'login',
          parameters: {
            url: env.vaultAddr,
            auth_mount: fx.circleciMount,
            role: fx.circleci.role,
            account: fx.account,
            registry: env.registry.host,
            timeout: 3,
          },
        },
      ],
      env: { CIRCLE_OIDC_TOKEN_V2: env.issuer.circleciToken({ v2: true }) },
    });
    if (r.success) throw new Error('the orb login succeeded against a Vault that never answers');
    return r.steps[0]?.durationMs ?? Number.NaN;
  });

  const checks = Object.entries(bounds).map(([label, bound]) => {
    const value = median(series[label]);
    const ok = value <= bound;
    return {
      label,
      ok,
      line: `${label}: ${fmt(value)} (bound ${fmt(bound)}) ${ok ? 'within' : 'OVER'}`,
    };
  });
  return { series, checks };
}
