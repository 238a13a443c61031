// A CircleCI job using the orb's credential_helper mode, run in slices that share the job's
// directory, HOME and $BASH_ENV (login; pulls; later pulls; logout), so a test can wait on real
// state between them. docker and curl are argv-recorded, the helper's own curl calls included
// (docker runs it with the step's PATH), and every slice is leak-scanned.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { makeArgvRecorder } from '../harness/argv-recorder.js';
import {
  type JobResult,
  type JobStep,
  type ParamValue,
  runJob,
} from '../harness/circleci-runner.js';
import type { DaemonEnv, DockerVia, TestEnv } from '../harness/index.js';
import { expectNoLeaks } from '../harness/leak.js';
import { expectNoJobLeaks } from './orb-job.js';

export interface HelperJob {
  dir: string;
  argv(): string[][];
  /** Runs steps in this job; the first call should be the login. */
  run(steps: JobStep[], extraEnv?: Record<string, string>): Promise<JobResult>;
  login(params?: Record<string, ParamValue>): Promise<JobResult>;
  /** One `docker pull` of the private image in its own step; resolves with its result. */
  pull(): Promise<JobResult>;
  logout(): Promise<JobResult>;
  /** The job's Vault token, from the login state (0600 file). */
  vaultToken(): string;
  /** The helper directory the login recorded. */
  helperDir(): string;
  /** Runs the job's docker-credential-vault as docker does: ACTION, stdin, the step's PATH. */
  helper(
    action: string,
    input: string,
    extraEnv?: Record<string, string>,
  ): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

export function helperJob(
  env: TestEnv | DaemonEnv,
  name: string,
  opts: { via?: DockerVia; role: string; hide?: string[] },
): HelperJob {
  const dir = mkdtempSync(join(env.tmpDir, `orb-helper-${name}-`));
  const recorder = makeArgvRecorder(dir, ['docker', 'curl']);
  const jobId = `job-${name}-${dir.slice(-6)}`;
  const jobEnv = {
    CIRCLE_OIDC_TOKEN_V2: env.issuer.circleciToken({ v2: true }),
    CIRCLE_WORKFLOW_JOB_ID: jobId,
    ...('daemon' in env && env.daemon.env(undefined, opts.via ?? 'unix')),
  };
  let started = false;
  const stateDir = join(dir, 'tmp', `vault-docker-login-${jobId}`);
  const stateFile = () => {
    const files = readdirSync(stateDir).filter((f) => /^session\.\w{6}$/.test(f));
    expect(files).toHaveLength(1);
    return readFileSync(join(stateDir, files[0] ?? ''), 'utf8');
  };
  const state = (key: string) =>
    [...stateFile().matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].at(-1)?.[1] ?? '';
  const job: HelperJob = {
    dir,
    argv: () => recorder.argv(),
    async run(steps, extraEnv = {}) {
      const r = await runJob({
        dir,
        steps,
        hide: opts.hide,
        pathPrepend: [recorder.binDir],
        env: { ...jobEnv, ...extraEnv },
        resume: started,
      });
      started = true;
      expectNoJobLeaks(r, recorder.argv(), env.secrets());
      return r;
    },
    login: (params = {}) =>
      job.run([
        {
          orb: 'login',
          parameters: {
            url: env.vaultAddr,
            auth_mount: env.fixtures.circleciMount,
            role: opts.role,
            account: env.fixtures.account,
            registry: env.registry.host,
            credential_helper: true,
            ...params,
          },
        },
      ]),
    pull: () =>
      job.run([
        { name: 'Pull', run: `docker pull ${'privateImage' in env ? env.privateImage : ''}` },
      ]),
    logout: () => job.run([{ orb: 'logout' }]),
    vaultToken: () => state('vault_token'),
    helperDir: () => state('helper_dir'),
    helper(action, input, extraEnv = {}) {
      const path = [recorder.binDir, process.env.PATH ?? ''].join(':');
      const bin = join(job.helperDir(), 'bin', 'docker-credential-vault');
      return new Promise((done) => {
        const child = spawn(bin, [action], {
          env: { PATH: path, HOME: join(dir, 'home'), ...extraEnv },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => {
          stdout += c.toString();
        });
        child.stderr.on('data', (c: Buffer) => {
          stderr += c.toString();
        });
        child.on('close', (code) => {
          // A get's answer carries the secret by design: everything else must not.
          expectNoLeaks(stderr + (stdout.includes('"Secret"') ? '' : stdout), env.secrets());
          done({ code, stdout, stderr });
        });
        // `version` and `store` exit without reading stdin: a broken pipe there is expected.
        child.stdin.on('error', () => {});
        child.stdin.end(input);
      });
    },
  };
  return job;
}
