// The Action's main step: log in (to every registry) and publish the non-secret outputs. With
// credential-helper (the default) the job's later docker commands lease through the helper for as
// long as the job runs; where the helper cannot run, docker login as before, with a warning.
import * as core from '@actions/core';
import { describe } from '../core/errors.js';
import { JobModeUnavailable, localDockerConfig, loginJob } from '../core/job-session.js';
import { type LoginResult, loginAll, type SessionDeps } from '../core/session.js';
import { githubIdentity } from '../identity/github.js';
import { baseDeps, logger } from './adapter.js';
import { readConfig } from './inputs.js';
import { helperInput, jobOptions, unavailable } from './job-mode.js';

function publish(all: LoginResult[]): void {
  const out = all[0];
  if (!out) return;
  core.setOutput(
    'registries',
    JSON.stringify(
      all.map((r) => ({
        registry: r.registry,
        username: r.username,
        'lease-id': r.leaseId ?? '',
        'expires-at': r.expiresAt ?? '',
      })),
    ),
  );
  core.setOutput('username', out.username);
  core.setOutput('registry', out.registry);
  core.setOutput('lease-id', out.leaseId ?? '');
  core.setOutput('lease-duration', String(out.leaseDuration));
  core.setOutput('expires-at', out.expiresAt ?? '');
}

/** What a job in login mode should know: when its credential dies, and what fails after. */
function ttlNote(all: LoginResult[], lead: string): string {
  const first = all
    .filter((r) => r.expiresAt)
    .sort((a, b) => String(a.expiresAt).localeCompare(String(b.expiresAt)))[0];
  const when = first
    ? `The credential ends with its lease at ${first.expiresAt} (lease TTL ${first.leaseDuration} s): every docker pull, push or build of ${all.map((r) => r.registry).join(', ')} after that fails with "unauthorized" or "denied". Keep such steps within the TTL, or raise the lease TTL.`
    : 'The credential is a static secret with no lease.';
  return `${lead} ${when}`;
}

export async function run(): Promise<void> {
  try {
    const cfg = await readConfig(process.env);
    const helper = helperInput(core.getInput('credential-helper'));
    const deps: SessionDeps = { ...baseDeps() };
    deps.identity = githubIdentity(process.env, deps.clock, cfg.retries, (wait, n) =>
      logger.info(
        `Retrying the GitHub OIDC token request in ${wait} ms (retry ${n} of ${cfg.retries}).`,
      ),
    );
    let why = helper ? unavailable(process.platform) : undefined;
    if (helper && !why) {
      try {
        const job = await loginJob(cfg, deps, jobOptions(cfg, process.env));
        core.exportVariable('DOCKER_CONFIG', job.dir.dockerConfig);
        core.addPath(job.dir.bin);
        logger.info(
          `Credential helper for this job: DOCKER_CONFIG=${job.dir.dockerConfig}; every registry is leased on use and re-leased before its lease ends, until the post step revokes it all.`,
        );
        publish(job.results);
        return;
      } catch (err) {
        if (!(err instanceof JobModeUnavailable)) throw err;
        why = err.message;
      }
    }
    // A self-hosted runner's jobs share the user's ~/.docker: docker login gets the job's own.
    if (process.env.RUNNER_ENVIRONMENT === 'self-hosted' && !process.env.DOCKER_CONFIG) {
      try {
        const d = localDockerConfig(process.env, deps);
        core.exportVariable('DOCKER_CONFIG', d.dockerConfig);
        logger.info(
          `Self-hosted runner: docker login writes to this job's own DOCKER_CONFIG=${d.dockerConfig}, removed by the post step.`,
        );
      } catch (err) {
        logger.warn(
          `docker login writes to ~/.docker/config.json, which every job of this user on this self-hosted runner shares (another job's login or logout replaces this one's): ${describe(err)}`,
        );
      }
    }
    const all = await loginAll(cfg, deps);
    publish(all);
    if (why)
      logger.warn(
        ttlNote(
          all,
          `credential-helper: the helper cannot run here, so this job logged in with docker login instead. ${why}`,
        ),
      );
    else logger.info(ttlNote(all, 'credential-helper is false: logged in with docker login.'));
  } catch (err) {
    core.setFailed(describe(err));
  }
}
