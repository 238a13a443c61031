// The Action's credential-helper input: where the mode works, and the helper's re-login as this
// job (the runner gives every step ACTIONS_ID_TOKEN_REQUEST_*, and docker passes its environment
// on to the helper).
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Config } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { JobModeOptions } from '../core/job-session.js';

export function helperInput(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'true') return true;
  if (v === 'false') return false;
  throw new ConfigError('credential-helper', `must be true or false; got "${value}".`);
}

/** Why the helper cannot run on this runner, or undefined when it can. */
export function unavailable(platform: NodeJS.Platform): string | undefined {
  // docker looks for docker-credential-vault.exe there; the wrapper is a shell script.
  if (platform === 'win32')
    return 'Windows runners are not supported by the credential-helper mode';
  try {
    accessSync('/bin/sh', constants.X_OK);
  } catch {
    // A `container:` job whose image has no shell: the wrapper cannot start.
    return 'there is no /bin/sh to run the helper (a container: job on an image without a shell)';
  }
  return undefined;
}

export function jobOptions(cfg: Config, env: NodeJS.ProcessEnv): JobModeOptions {
  return {
    env,
    node: process.execPath,
    // dist/main/docker-credential-vault.cjs, bundled beside this entry (scripts/build.mjs).
    helperScript: fileURLToPath(new URL('./docker-credential-vault.cjs', import.meta.url)),
    relogin: {
      identity: 'github',
      mount: cfg.authMount,
      role: cfg.role,
      audience: cfg.audience,
    },
  };
}
