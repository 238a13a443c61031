// The Action's main step: log in and publish the non-secret outputs.
import * as core from '@actions/core';
import { describe } from '../core/errors.js';
import { login } from '../core/session.js';
import { baseDeps, logger } from './adapter.js';
import { githubIdentity } from './identity.js';
import { readConfig } from './inputs.js';

export async function run(): Promise<void> {
  try {
    const cfg = readConfig(process.env);
    const deps = baseDeps();
    const identity = githubIdentity(process.env, deps.clock, cfg.retries, (wait, n) =>
      logger.info(
        `Retrying the GitHub OIDC token request in ${wait} ms (retry ${n} of ${cfg.retries}).`,
      ),
    );
    const out = await login(cfg, { ...deps, identity });
    core.setOutput('username', out.username);
    core.setOutput('registry', out.registry);
    core.setOutput('lease-id', out.leaseId ?? '');
    core.setOutput('lease-duration', String(out.leaseDuration));
    core.setOutput('expires-at', out.expiresAt ?? '');
  } catch (err) {
    core.setFailed(describe(err));
  }
}
