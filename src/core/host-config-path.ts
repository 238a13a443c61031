// Where the host entry points find their configuration file, without loading the parser: the
// credential helper's cached answer checks the file's identity through here on every call.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const CONFIG_ENV = 'VAULT_DOCKER_LOGIN_CONFIG';
export const DEFAULT_CONFIG_FILE = '/etc/vault-docker-login/config.yml';

/** `$XDG_CONFIG_HOME/vault-docker-login/config.yml` (XDG's default: ~/.config). */
export function userConfigFile(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'vault-docker-login', 'config.yml');
}

/**
 * The file named by VAULT_DOCKER_LOGIN_CONFIG; else this user's own file when it exists (a
 * developer's laptop, a runner user); else the host-wide one (a root daemon, a Nomad agent).
 */
export function hostConfigPath(env: NodeJS.ProcessEnv): string {
  const named = env[CONFIG_ENV];
  if (named) return resolve(named);
  const own = userConfigFile(env);
  return existsSync(own) ? own : DEFAULT_CONFIG_FILE;
}
