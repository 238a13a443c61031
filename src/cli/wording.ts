// The CLI names settings by its flags: core messages say which setting, this table says how.
import { ConfigError, describe } from '../core/errors.js';
import type { SettingId, SettingNames } from '../core/setting-names.js';

/** The CLI takes TLS material as files, under shorter names; the rest as the Action's inputs. */
const SHORTER: Partial<Record<SettingId, string>> = {
  'ca-certificate': '--ca-cert',
  'client-certificate': '--client-cert',
  'client-key': '--client-key',
};

const flag = (input: string) => SHORTER[input as SettingId] ?? `--${input}`;

export const CLI_NAMES: SettingNames = {
  url: flag('url'),
  namespace: flag('namespace'),
  'auth-namespace': flag('auth-namespace'),
  'auth-mount': flag('auth-mount'),
  role: flag('role'),
  audience: flag('audience'),
  'engine-mount': flag('engine-mount'),
  account: flag('account'),
  scope: flag('scope'),
  'secret-path': flag('secret-path'),
  'username-field': flag('username-field'),
  'password-field': flag('password-field'),
  registry: flag('registry'),
  registries: flag('registries'),
  timeout: flag('timeout'),
  retries: flag('retries'),
  'ca-certificate': flag('ca-certificate'),
  'client-certificate': flag('client-certificate'),
  'client-key': flag('client-key'),
  'tls-skip-verify': flag('tls-skip-verify'),
};

/** An error for the terminal; a bad setting is named by its flag ("--retries must be ..."). */
export function cliError(err: unknown): string {
  return err instanceof ConfigError ? `${flag(err.input)} ${err.detail}` : describe(err);
}
