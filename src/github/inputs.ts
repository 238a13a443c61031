// Reads every input the way the runner passes them and the label GitHub jobs get by default.
import * as core from '@actions/core';
import { type Config, defaultLabel, type RawInputs } from '../core/config.js';
import { loadConfig } from '../core/load-config.js';

export const INPUTS = [
  'url',
  'namespace',
  'auth-namespace',
  'auth-mount',
  'role',
  'audience',
  'engine-mount',
  'account',
  'scope',
  'secret-path',
  'secret-method',
  'secret-body',
  'username-field',
  'password-field',
  'registries',
  'label',
  'registry',
  'logout',
  'revoke',
  'timeout',
  'retries',
  'ca-certificate',
  'client-certificate',
  'client-key',
  'tls-skip-verify',
] as const;

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
