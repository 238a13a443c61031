// Which CI job this is, so two jobs of one user on one host never share a session: the session
// name defaults to the job's id, and a logout from another job is refused.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../core/config.js';
import type { JobModeOptions, Relogin } from '../core/job-session.js';
import type { IdentityName, IdentityOptions } from './identity.js';
import { UsageError } from './usage.js';

export interface CiJob {
  /** The variable it came from: CI_JOB_ID (GitLab), BUILDKITE_JOB_ID, CIRCLE_WORKFLOW_JOB_ID, BUILD_TAG (Jenkins). */
  variable: string;
  id: string;
}

const VARIABLES = ['CI_JOB_ID', 'BUILDKITE_JOB_ID', 'CIRCLE_WORKFLOW_JOB_ID', 'BUILD_TAG'];

export function ciJob(env: NodeJS.ProcessEnv): CiJob | undefined {
  for (const variable of VARIABLES) {
    const id = env[variable]?.trim();
    if (id) return { variable, id };
  }
  return undefined;
}

/** The session name: --session, else `job-<id>` (Jenkins' BUILD_TAG may hold "/" or spaces), else "default". */
export function sessionName(flag: string | undefined, job: CiJob | undefined): string {
  if (flag) return flag;
  return job ? `job-${job.id.replace(/[^A-Za-z0-9_.-]/g, '_')}` : 'default';
}

/** A login made by another CI job is that job's to end. */
export function refuseOtherJob(owner: CiJob | undefined, here: CiJob | undefined, path: string) {
  if (!owner || (here && here.variable === owner.variable && here.id === owner.id)) return;
  const now = here ? `this is job ${here.id} (${here.variable})` : 'this is not a CI job';
  throw new UsageError(
    `The login in ${path} belongs to CI job ${owner.id} (${owner.variable}); ${now}. Its own logout ends it; whatever it leased ends on its own with its TTL.`,
  );
}

/** The helper's re-login: the same identity, where every step's environment still has it. */
function relogin(name: IdentityName, o: IdentityOptions, cfg: Config): Relogin | undefined {
  const base = { mount: cfg.authMount, role: cfg.role, audience: cfg.audience };
  switch (name) {
    case 'github':
      return { identity: 'github', ...base };
    case 'gitlab':
      return { identity: 'jwt_env', jwt_env: o.gitlabTokenVar, ...base };
    case 'jwt-env':
      return o.jwtEnv ? { identity: 'jwt_env', jwt_env: o.jwtEnv, ...base } : undefined;
    case 'jwt-file':
      return o.jwtFile
        ? { identity: 'jwt_file', jwt_file: resolve(o.jwtFile), ...base }
        : undefined;
    default:
      // CircleCI and Buildkite mint tokens with their agent's tool: the token is renewed only.
      return undefined;
  }
}

export function cliJobOptions(
  name: IdentityName,
  o: IdentityOptions,
  cfg: Config,
  env: NodeJS.ProcessEnv,
): JobModeOptions {
  if (name === 'vault-token')
    throw new UsageError(
      '--credential-helper needs a JWT login (the job gets a Vault token of its own, revoked at logout); VAULT_TOKEN is yours and is never revoked. Pass --identity, or leave out --credential-helper.',
    );
  return {
    env,
    node: process.execPath,
    // dist/credential-helper/index.cjs, shipped beside dist/cli/ in the package.
    helperScript: join(
      dirname(fileURLToPath(import.meta.url)),
      '..',
      'credential-helper',
      'index.cjs',
    ),
    relogin: relogin(name, o, cfg),
  };
}

const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** What the job's later commands need: shell lines to eval, or NAME=value lines for an env file. */
export function exportLines(dockerConfig: string, bin: string, path: string, shell: boolean) {
  return shell
    ? `export DOCKER_CONFIG=${sq(dockerConfig)}\nexport PATH=${sq(bin)}:"$PATH"\n`
    : `DOCKER_CONFIG=${dockerConfig}\nPATH=${bin}:${path}\n`;
}
