// The Action's main step: log in (to every registry) and publish the non-secret outputs.
import * as core from '@actions/core';
import { describe } from '../core/errors.js';
import { loginAll } from '../core/session.js';
import { githubIdentity } from '../identity/github.js';
import { baseDeps, logger } from './adapter.js';
import { readConfig } from './inputs.js';

export async function run(): Promise<void> {
  try {
    const cfg = await readConfig(process.env);
    const deps = baseDeps();
    const identity = githubIdentity(process.env, deps.clock, cfg.retries, (wait, n) =>
      logger.info(
        `Retrying the GitHub OIDC token request in ${wait} ms (retry ${n} of ${cfg.retries}).`,
      ),
    );
    const all = await loginAll(cfg, { ...deps, identity });
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
  } catch (err) {
    core.setFailed(describe(err));
  }
}
