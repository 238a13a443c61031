// One CircleCI job running the packed orb (login [, steps] [, logout]) for the orb hardening tests,
// with an argv recorder on docker and curl (and on jq and python3, which the orb must not need)
// and the leak scan on everything it left.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeArgvRecorder } from '../harness/argv-recorder.js';
import {
  type JobResult,
  type JobStep,
  type ParamValue,
  runJob,
} from '../harness/circleci-runner.js';
import type { TestEnv } from '../harness/index.js';
import { expectNoLeaks } from '../harness/leak.js';

export interface OrbJobOptions {
  /** Login parameters; `url` defaults to env.vaultAddr, `credential_helper` to false (the classic login these tests check). */
  login: Record<string, ParamValue>;
  between?: JobStep[];
  logout?: Record<string, ParamValue> | false;
  env?: Record<string, string | undefined>;
  hide?: string[];
  /** Secrets the environment does not know of (a private key), scanned for too. */
  extraSecrets?: string[];
  /** The CIRCLE_OIDC_TOKEN_V2 to use (default: a CircleCI-shaped token). */
  oidcToken?: string;
  /** Passed to the job runner: what `circleci run oidc get` answers, and how. */
  oidcTokens?: Record<string, string>;
  oidcEmptyAnswers?: number;
  noCircleciCli?: boolean;
}

export interface OrbJob extends JobResult {
  dir: string;
  argv: string[][];
  /** Runs the logout command alone, later in the same job (same directory, HOME and state). */
  logoutLater(): Promise<JobResult>;
}

const RECORDED = ['docker', 'curl', 'jq', 'python3'];

/** No secret in a job's output, its $BASH_ENV, or the argv of the recorded commands. */
export function expectNoJobLeaks(r: JobResult, argv: string[][], secrets: string[]): void {
  expectNoLeaks(r.output, secrets);
  expectNoLeaks(r.bashEnv, secrets);
  expectNoLeaks(argv.map((a) => JSON.stringify(a)).join('\n'), secrets);
}

export async function orbJob(env: TestEnv, opts: OrbJobOptions): Promise<OrbJob> {
  const dir = mkdtempSync(join(env.tmpDir, 'orb-hard-'));
  const recorder = makeArgvRecorder(
    dir,
    RECORDED.filter((c) => !opts.hide?.includes(c)),
  );
  const jobEnv = {
    CIRCLE_OIDC_TOKEN_V2: opts.oidcToken ?? env.issuer.circleciToken({ v2: true }),
    // One state directory for the whole job, as CIRCLE_WORKFLOW_JOB_ID gives on CircleCI.
    CIRCLE_WORKFLOW_JOB_ID: `job-${dir.slice(-6)}`,
    ...opts.env,
  };
  const steps: JobStep[] = [
    { orb: 'login', parameters: { url: env.vaultAddr, credential_helper: false, ...opts.login } },
    ...(opts.between ?? []),
    ...(opts.logout === false ? [] : [{ orb: 'logout', parameters: opts.logout ?? {} }]),
  ];
  const scan = (r: JobResult) =>
    expectNoJobLeaks(r, recorder.argv(), [...env.secrets(), ...(opts.extraSecrets ?? [])]);
  const run = (s: JobStep[]) =>
    runJob({
      dir,
      steps: s,
      hide: opts.hide,
      pathPrepend: [recorder.binDir],
      env: jobEnv,
      oidcTokens: opts.oidcTokens,
      oidcEmptyAnswers: opts.oidcEmptyAnswers,
      noCircleciCli: opts.noCircleciCli,
    });
  const r = await run(steps);
  scan(r);
  return {
    ...r,
    dir,
    argv: recorder.argv(),
    async logoutLater() {
      const out = await run([{ orb: 'logout' }]);
      scan(out);
      return out;
    },
  };
}

/** The credentials docker stored, by registry key. */
export function storedAuths(home: string): Record<string, { username: string; secret: string }> {
  const file = join(home, '.docker', 'config.json');
  const config = JSON.parse(readFileSync(file, 'utf8')) as {
    auths?: Record<string, { auth?: string }>;
  };
  return Object.fromEntries(
    Object.entries(config.auths ?? {}).map(([key, v]) => {
      const [username = '', secret = ''] = Buffer.from(v.auth ?? '', 'base64')
        .toString('utf8')
        .split(/:(.*)/s);
      return [key, { username, secret }];
    }),
  );
}

/** Files the orb left in the job's temporary directory (state, keys, CA copies). */
export function leftovers(job: { dir: string }): string[] {
  const tmp = join(job.dir, 'tmp');
  return readdirSync(tmp, { recursive: true }).map(String);
}
