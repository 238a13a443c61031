// The Action's post step: logout and revoke (the credential-helper mode: every lease the helper
// made, the job's Vault tokens, the job directory). Problems are warnings; the job never fails here.
import * as core from '@actions/core';
import { cleanup } from '../core/cleanup-run.js';
import { describe } from '../core/errors.js';
import { removeJobDir } from '../core/job-dir.js';
import { baseDeps } from './adapter.js';
import { readConfig } from './inputs.js';

export async function run(): Promise<void> {
  try {
    const deps = baseDeps();
    const s = deps.state.load();
    if (s.vaultToken || s.loggedIn || s.jobDir) await cleanup(await readConfig(process.env), deps);
    else core.info('Nothing to clean up in Vault or docker: the main step did not log in.');
    // Made before the login, so also there when main failed before Vault answered.
    if (s.dockerDir) {
      removeJobDir(s.dockerDir);
      core.info(`Removed the job's DOCKER_CONFIG directory ${s.dockerDir}.`);
    }
  } catch (err) {
    core.warning(`Cleanup could not run: ${describe(err)}`);
  }
}
