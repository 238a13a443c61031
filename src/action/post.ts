// The Action's post step: logout and revoke. Problems are warnings; the job never fails here.
import * as core from '@actions/core';
import { describe } from '../core/errors.js';
import { cleanup } from '../core/session.js';
import { baseDeps } from './adapter.js';
import { readConfig } from './inputs.js';

export async function run(): Promise<void> {
  try {
    const deps = baseDeps();
    if (!deps.state.load().vaultToken && !deps.state.load().loggedIn) {
      core.info('Nothing to clean up: the main step did not log in.');
      return;
    }
    await cleanup(await readConfig(process.env), deps);
  } catch (err) {
    core.warning(`Cleanup could not run: ${describe(err)}`);
  }
}
