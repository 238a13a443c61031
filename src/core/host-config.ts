// The configuration file of the host entry points (credential helper, kubelet provider, Swarm
// driver): the Vault connection, how to log in, the same `registries` entries the Action, orb and
// CLI accept, and each entry point's own section. One loader for all three: each section has one
// schema (host-config-schema.ts), and a refusal names the file and the key.
import { ConfigError } from './errors.js';
import { type Field, Refusal } from './host-config-fields.js';
import { type FileHints, readHostConfigFile } from './host-config-file.js';
import { HOST_FILE_NAMES } from './host-config-names.js';
import {
  AUTH_METHOD,
  AUTH_SECTIONS,
  CREDENTIAL_HELPER_SECTION,
  DRIVER_SECTION,
  KUBELET_SECTION,
  TOP_LEVEL,
  VAULT_SECTION,
} from './host-config-schema.js';
import { parseRegistries } from './load-config.js';
import { type Entry, parseEntries } from './registry-entries.js';
import type { SettingId } from './setting-names.js';
import type { RawInputs } from './validators.js';
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

/** Each entry point's own section, in the form its schema gives (the entry point defaults it). */
export interface OwnSections {
  credential_helper: ReturnType<typeof CREDENTIAL_HELPER_SECTION>;
  kubelet: ReturnType<typeof KUBELET_SECTION>;
  driver: ReturnType<typeof DRIVER_SECTION>;
}

export interface HostConfig {
  file: string;
  /** The Vault connection, validated as the Action's inputs are. */
  connection: Connection;
  /** The `registries` entries, as the Action, orb and CLI take them (none when refused). */
  entries: Entry[];
  auth: AuthSettings;
  /** The Docker Hub secrets engine's mount (`engine_mount`, default dockerhub). */
  engineMount: string;
  /** The file's Docker Hub token label (`label`), when it sets one. */
  label?: string;
  sections: OwnSections;
}

/** What differs between the entry points reading the file. */
export interface HostEntryPoint {
  /** The Docker Hub token label when neither the file nor an entry sets one. */
  label: string;
  /** `registries` is required (helper, provider), or refused with the reason (the driver). */
  registries: 'required' | { refused: string };
}

/**
 * vault.timeout when the file does not set it, in seconds. A pull, a kubelet run or a task start
 * waits on it: a hanging Vault must fail fast (a CI step's 60 s would hold every pull for 60 s).
 */
export const HOST_TIMEOUT_S = 10;

/** Keys are snake_case (the Action's kebab-case spellings are taken too); empty means unset. */
function normalized(value: unknown, keepRaw: string[] = []): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null && v !== '')
      .map(([k, v]) => {
        const key = k.replace(/-/g, '_');
        return [key, keepRaw.includes(key) ? v : normalized(v)];
      }),
  );
}

/** `field` applied to the section at `at`; a refusal names the file and the key. */
function parsed<T>(field: Field<T>, value: unknown, at: string[], label: string): T {
  try {
    return field(value, at);
  } catch (err) {
    if (err instanceof Refusal)
      throw new ConfigError(err.path.join('.') || '(top level)', err.detail, label);
    throw err;
  }
}

function authSettings(doc: unknown, label: string): AuthSettings {
  const { method } = parsed(AUTH_METHOD, pickMethod(doc), ['auth'], label);
  switch (method) {
    case 'token':
      return { method };
    case 'token_file': {
      const a = parsed(AUTH_SECTIONS.token_file, doc, ['auth'], label);
      return { method, tokenFile: a.token_file };
    }
    case 'jwt': {
      const a = parsed(AUTH_SECTIONS.jwt, doc, ['auth'], label);
      return { method, mount: a.mount, role: a.role, jwtFile: a.jwt_file };
    }
    case 'approle': {
      const a = parsed(AUTH_SECTIONS.approle, doc, ['auth'], label);
      return {
        method,
        mount: a.mount,
        roleId: a.role_id,
        roleIdFile: a.role_id_file,
        secretIdFile: a.secret_id_file,
        wrapped: a.secret_id_wrapped,
        roleName: a.role_name,
        stateDir: a.state_dir,
      };
    }
  }
}

/** The method alone, so its own keys are judged by its own section. */
function pickMethod(doc: unknown): unknown {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return doc;
  return { method: (doc as Record<string, unknown>).method };
}

/**
 * Validates a parsed configuration document, every section of it (so one shared file serves
 * every entry point). VAULT_* variables fill what the file omits.
 */
export async function parseHostConfig(
  doc: unknown,
  env: RawInputs,
  opts: { file: string } & HostEntryPoint,
): Promise<HostConfig> {
  const { file } = opts;
  const label = `Config file ${file}: key`;
  const top = parsed(TOP_LEVEL, normalized(doc, ['registries']), [], label);
  const vault = parsed(VAULT_SECTION, top.vault, ['vault'], label);
  const auth = authSettings(top.auth ?? {}, label);
  const sections: OwnSections = {
    credential_helper: parsed(
      CREDENTIAL_HELPER_SECTION,
      top.credential_helper,
      ['credential_helper'],
      label,
    ),
    kubelet: parsed(KUBELET_SECTION, top.kubelet, ['kubelet'], label),
    driver: parsed(DRIVER_SECTION, top.driver, ['driver'], label),
  };
  if (opts.registries === 'required' && top.registries === undefined)
    throw new ConfigError(
      'registries',
      'is required: a list of {registry, secret_path, ...}.',
      label,
    );
  if (opts.registries !== 'required' && top.registries !== undefined)
    throw new ConfigError('registries', opts.registries.refused, label);
  const raw: RawInputs = {
    url: vault.url,
    namespace: vault.namespace,
    'auth-namespace': vault.auth_namespace,
    timeout: String(vault.timeout ?? HOST_TIMEOUT_S),
    retries: vault.retries,
    'tls-skip-verify': vault.tls_skip_verify?.toString(),
    'engine-mount': top.engine_mount,
    label: top.label,
  };
  try {
    const connection = parseConnection(
      raw,
      {
        ...env,
        VAULT_CACERT: vault.ca_cert ?? env.VAULT_CACERT,
        VAULT_CLIENT_CERT: vault.client_cert ?? env.VAULT_CLIENT_CERT,
        VAULT_CLIENT_KEY: vault.client_key ?? env.VAULT_CLIENT_KEY,
      },
      HOST_FILE_NAMES,
    );
    const registries =
      typeof top.registries === 'string' ? await parseRegistries(top.registries) : top.registries;
    const entries = registries === undefined ? [] : parseEntries(raw, registries, opts.label);
    return {
      file,
      connection,
      entries,
      auth,
      engineMount: top.engine_mount,
      label: top.label,
      sections,
    };
  } catch (err) {
    // The shared validators name Action inputs; say where the file sets them.
    if (err instanceof ConfigError && !err.message.startsWith(label))
      throw new ConfigError(fileKey(err.input), err.detail, label);
    throw err;
  }
}

function fileKey(input: string): string {
  return input in HOST_FILE_NAMES ? HOST_FILE_NAMES[input as SettingId] : input;
}

/** Reads the file and validates it; every refusal names the file and the key. */
export async function loadHostConfig(
  file: string,
  env: RawInputs,
  entry: HostEntryPoint & { hints: FileHints },
): Promise<HostConfig> {
  return parseHostConfig(await readHostConfigFile(file, entry.hints), env, { file, ...entry });
}
