// Reads every input the way the runner passes them and the label GitHub jobs get by default.
import * as core from '@actions/core';
import { type Config, INPUT_NAMES } from '../core/config.js';
import { loadConfig } from '../core/load-config.js';
import { defaultLabel } from '../core/registry-entries.js';
import type { RawInputs } from '../core/validators.js';
import { TLS_INPUT_NAMES } from '../core/vault-connection.js';

/** Every input; `credential-helper` is the Action's own (src/action/job-mode.ts). */
export const INPUTS = [...INPUT_NAMES, ...TLS_INPUT_NAMES, 'credential-helper'];

export function readConfig(env: NodeJS.ProcessEnv): Promise<Config> {
  const raw: RawInputs = {};
  for (const name of INPUTS) raw[name] = core.getInput(name);
  const label = defaultLabel([
    env.GITHUB_REPOSITORY ?? 'github',
    env.GITHUB_RUN_ID ? `run ${env.GITHUB_RUN_ID}` : '',
    env.GITHUB_RUN_ATTEMPT ? `attempt ${env.GITHUB_RUN_ATTEMPT}` : '',
  ]);
  return loadConfig(raw, env, { label });
}
