// The configuration file of the host entry points (credential helper, kubelet provider, Swarm
// driver): the Vault connection, how to log in, and the same `registries` entries the Action, orb
// and CLI accept. Errors name the file and the key, as the Action's name its inputs.
import { ConfigError } from './errors.js';
import { HOST_FILE_NAMES } from './host-config-names.js';
import { parseRegistries } from './load-config.js';
import { type Entry, parseEntries } from './registry-entries.js';
import { pathLike, type RawInputs, segment } from './validators.js';
import { type Connection, parseConnection } from './vault-connection.js';

export { CONFIG_ENV, DEFAULT_CONFIG_FILE } from './host-config-path.js';

export type AuthSettings =
  | { method: 'token' }
  | { method: 'token_file'; tokenFile: string }
  | { method: 'jwt'; mount: string; role: string; jwtFile?: string }
  | {
      method: 'approle';
      mount: string;
      roleId?: string;
      roleIdFile?: string;
      secretIdFile: string;
      wrapped: boolean;
      roleName?: string;
      /** Where an unwrapped secret_id is kept (auth/file-keeper.ts); unset: its default. */
      stateDir?: string;
    };

export interface HostConfig {
  file: string;
  /** The Vault connection, validated as the Action's inputs are. */
  connection: Connection;
  /** The `registries` entries, as the Action, orb and CLI take them (none when not required). */
  entries: Entry[];
  auth: AuthSettings;
  /** The entry point's own top-level keys, for it to validate. */
  extra: Record<string, unknown>;
}

/** Action input name -> where the file sets it. */
const FILE_KEYS: Record<string, string> = {
  url: 'vault.url',
  namespace: 'vault.namespace',
  'auth-namespace': 'vault.auth_namespace',
  timeout: 'vault.timeout',
  retries: 'vault.retries',
  'tls-skip-verify': 'vault.tls_skip_verify',
  'client-certificate': 'vault.client_cert',
  'engine-mount': 'engine_mount',
  label: 'label',
};

const VAULT_KEYS = [
  'url',
  'namespace',
  'auth_namespace',
  'ca_cert',
  'client_cert',
  'client_key',
  'tls_skip_verify',
  'timeout',
  'retries',
];
const AUTH_KEYS: Record<AuthSettings['method'], string[]> = {
  token: [],
  token_file: ['token_file'],
  jwt: ['mount', 'role', 'jwt_file'],
  approle: [
    'mount',
    'role_id',
    'role_id_file',
    'secret_id_file',
    'secret_id_wrapped',
    'role_name',
    'state_dir',
  ],
};
const TOP_KEYS = ['vault', 'auth', 'registries', 'engine_mount', 'label'];

/**
 * vault.timeout when the file does not set it, in seconds. A pull, a kubelet run or a task start
 * waits on it: a hanging Vault must fail fast (a CI step's 60 s would hold every pull for 60 s).
 */
export const HOST_TIMEOUT_S = 10;

/** Keys are snake_case; the Action's kebab-case spellings are accepted too. */
function mapping(value: unknown, at: string, file: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(at, 'must be a mapping.', `Config file ${file}: key`);
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [k.replace(/-/g, '_'), v]),
  );
}

function only(obj: Record<string, unknown>, allowed: string[], at: string, file: string): void {
  for (const k of Object.keys(obj))
    if (!allowed.includes(k))
      throw new ConfigError(
        at ? `${at}.${k}` : k,
        `is not a known key; expected one of ${allowed.join(', ')}.`,
        `Config file ${file}: key`,
      );
}

/**
 * An entry point's own section of the file (`credential_helper:`, `kubelet:`): a mapping or
 * absent, keys written with `-` or `_`, each one of `keys`.
 */
export function ownSection(
  section: unknown,
  name: string,
  keys: string[],
  file: string,
): Record<string, unknown> {
  if (section === undefined || section === null) return {};
  if (typeof section !== 'object' || Array.isArray(section))
    throw new ConfigError(name, 'must be a mapping.', `Config file ${file}: key`);
  const raw = Object.fromEntries(
    Object.entries(section as Record<string, unknown>).map(([k, v]) => [k.replace(/-/g, '_'), v]),
  );
  only(raw, keys, name, file);
  return raw;
}

function scalar(obj: Record<string, unknown>, key: string, at: string, file: string) {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new ConfigError(
    `${at}.${key}`,
    'must be a string, number or boolean.',
    `Config file ${file}: key`,
  );
}

function authSettings(auth: Record<string, unknown>, file: string): AuthSettings {
  const label = `Config file ${file}: key`;
  const method = scalar(auth, 'method', 'auth', file) ?? 'token';
  if (!(method in AUTH_KEYS))
    throw new ConfigError(
      'auth.method',
      `must be one of ${Object.keys(AUTH_KEYS).join(', ')}; got "${method}".`,
      label,
    );
  only(auth, ['method', ...(AUTH_KEYS[method as AuthSettings['method']] ?? [])], 'auth', file);
  const get = (k: string) => scalar(auth, k, 'auth', file);
  const need = (k: string, why: string) => {
    const v = get(k);
    if (!v)
      throw new ConfigError(`auth.${k}`, `is required with auth.method ${method}: ${why}.`, label);
    return v;
  };
  switch (method as AuthSettings['method']) {
    case 'token':
      return { method: 'token' };
    case 'token_file':
      return { method: 'token_file', tokenFile: need('token_file', 'the Vault Agent sink file') };
    case 'jwt':
      return {
        method: 'jwt',
        mount: pathLike('auth.mount', get('mount') ?? 'jwt'),
        role: segment('auth.role', need('role', 'the JWT role to log in with')),
        jwtFile: get('jwt_file'),
      };
    case 'approle': {
      const roleId = get('role_id');
      const roleIdFile = get('role_id_file');
      if (!roleId === !roleIdFile)
        throw new ConfigError(
          'auth.role_id',
          'or auth.role_id_file is required (one of them).',
          label,
        );
      const roleName = get('role_name');
      const stateDir = get('state_dir');
      if (stateDir !== undefined && !stateDir.startsWith('/'))
        throw new ConfigError(
          'auth.state_dir',
          `must be an absolute path; got "${stateDir}".`,
          label,
        );
      const wrapped = get('secret_id_wrapped') ?? 'false';
      if (!/^(true|false)$/.test(wrapped))
        throw new ConfigError(
          'auth.secret_id_wrapped',
          `must be true or false; got "${wrapped}".`,
          label,
        );
      return {
        method: 'approle',
        mount: pathLike('auth.mount', get('mount') ?? 'approle'),
        roleId,
        roleIdFile,
        secretIdFile: need(
          'secret_id_file',
          'the file holding the secret_id or its wrapping token',
        ),
        wrapped: wrapped === 'true',
        roleName: roleName === undefined ? undefined : segment('auth.role_name', roleName),
        stateDir,
      };
    }
  }
}

/**
 * Validates a parsed configuration document. `extraKeys` are the entry point's own top-level
 * keys; anything else unknown is an error naming it. VAULT_* variables fill what the file omits.
 */
export async function parseHostConfig(
  doc: unknown,
  env: RawInputs,
  opts: { file: string; extraKeys?: string[]; label: string; requireRegistries?: boolean },
): Promise<HostConfig> {
  const { file } = opts;
  const label = `Config file ${file}: key`;
  const top = mapping(doc, '(top level)', file);
  only(top, [...TOP_KEYS, ...(opts.extraKeys ?? [])], '', file);
  const vault = mapping(top.vault, 'vault', file);
  only(vault, VAULT_KEYS, 'vault', file);
  const v = (k: string) => scalar(vault, k, 'vault', file);
  const raw: RawInputs = {
    url: v('url'),
    namespace: v('namespace'),
    'auth-namespace': v('auth_namespace'),
    timeout: v('timeout') ?? String(HOST_TIMEOUT_S),
    retries: v('retries'),
    'tls-skip-verify': v('tls_skip_verify'),
    'engine-mount': scalar(top, 'engine_mount', '', file),
    label: scalar(top, 'label', '', file),
  };
  const registries = top.registries;
  if (registries === undefined && opts.requireRegistries !== false)
    throw new ConfigError(
      'registries',
      'is required: a list of {registry, secret_path, ...}.',
      label,
    );
  try {
    const auth = authSettings(mapping(top.auth, 'auth', file), file);
    const connection = parseConnection(
      raw,
      {
        ...env,
        VAULT_CACERT: v('ca_cert') ?? env.VAULT_CACERT,
        VAULT_CLIENT_CERT: v('client_cert') ?? env.VAULT_CLIENT_CERT,
        VAULT_CLIENT_KEY: v('client_key') ?? env.VAULT_CLIENT_KEY,
      },
      HOST_FILE_NAMES,
    );
    const doc = typeof registries === 'string' ? await parseRegistries(registries) : registries;
    const entries = doc === undefined ? [] : parseEntries(raw, doc, opts.label);
    const extra = Object.fromEntries(
      Object.entries(top).filter(([k]) => (opts.extraKeys ?? []).includes(k)),
    );
    return { file, connection, entries, auth, extra };
  } catch (err) {
    // The shared validators name Action inputs; say where the file sets them.
    if (err instanceof ConfigError && !err.message.startsWith(label))
      throw new ConfigError(FILE_KEYS[err.input] ?? err.input, err.detail, label);
    throw err;
  }
}
