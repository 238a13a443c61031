// The Action's, orb's and CLI's inputs (strings, as every CI hands them over) -> a typed,
// validated Config: the Vault connection, the JWT login, and the registries to log in to.
import { ConfigError } from './errors.js';
import {
  type Entry,
  parseEntries,
  SCOPES,
  type Scope,
  type Source,
  singleEntry,
} from './registry-entries.js';
import type { SettingNames } from './setting-names.js';
import { bool, inputReader, pathLike, type RawInputs, segment } from './validators.js';
import { type Connection, parseConnection } from './vault-connection.js';

export interface Config extends Connection {
  authMount: string;
  role: string;
  audience?: string;
  /** The first (or only) registry's source and registry, as the single-registry outputs. */
  source: Source;
  scope: Scope;
  registry: string;
  /** Every registry to log in to, in order; one Vault login serves them all. */
  entries: Entry[];
  logout: boolean;
  revoke: boolean;
}

/** The inputs every entry point passes to the core by these names (the Action's input names). */
export const INPUT_NAMES = [
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
] as const;

/**
 * Validates inputs. `env` supplies the standard VAULT_* fallbacks; `defaults.label` is the
 * adapter's own label (names the repository and run); `defaults.registries` is the parsed
 * `registries` document (see loadConfig), which replaces the single-registry inputs.
 */
export function parseConfig(
  raw: RawInputs,
  env: RawInputs = {},
  defaults: { label?: string; registries?: unknown; names?: SettingNames } = {},
): Config {
  const get = inputReader(raw);
  const connection = parseConnection(raw, env, defaults.names);
  const authMount = pathLike('auth-mount', get('auth-mount') ?? 'jwt');
  const role = get('role');
  if (!role) throw new ConfigError('role', 'is required: the Vault JWT role to log in with.');
  segment('role', role);

  const scopeRaw = get('scope') ?? 'read';
  if (!(SCOPES as readonly string[]).includes(scopeRaw)) {
    throw new ConfigError('scope', `must be one of ${SCOPES.join(', ')}; got "${scopeRaw}".`);
  }
  const scope = scopeRaw as Scope;
  const entries =
    defaults.registries === undefined
      ? [singleEntry(raw, scope, defaults)]
      : parseEntries(raw, defaults.registries, defaults.label);
  const first = entries[0] as Entry;
  return {
    ...connection,
    authMount,
    role,
    audience: get('audience'),
    source: first.source,
    scope,
    registry: first.registry,
    entries,
    logout: bool('logout', get('logout'), true),
    revoke: bool('revoke', get('revoke'), true),
  };
}
