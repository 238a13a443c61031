// Which registries to log in to and where each credential comes from: the single-registry inputs
// (account or secret-path) or a `registries` list, each entry validated like those inputs.
import type { FieldMap } from './credential.js';
import { ConfigError } from './errors.js';
import { naming, type SettingNames } from './setting-names.js';
import {
  fieldName,
  type Get,
  inputReader,
  pathLike,
  type RawInputs,
  registry,
  segment,
} from './validators.js';

/** The Docker Hub engine's token scopes, the last segment of its path. */
export const SCOPES = ['read', 'write', 'admin', 'public_read'] as const;
export type Scope = (typeof SCOPES)[number];

/** Where one registry's credential comes from and how to read it. */
export interface Source {
  path: string;
  method: 'write' | 'read';
  body?: Record<string, unknown>;
}

/** One `docker login`: a registry and the Vault source of its credential. */
export interface Entry {
  registry: string;
  source: Source;
  fields: FieldMap;
  /** "registries[0]" for an entry of a `registries` list, whose keys messages then name. */
  at?: string;
}

/** The inputs `registries` replaces; setting both is ambiguous. */
export const SINGLE_REGISTRY_INPUTS = [
  'registry',
  'account',
  'secret-path',
  'secret-method',
  'secret-body',
  'username-field',
  'password-field',
] as const;

/** Cuts a default label to Docker Hub's 100 characters. */
export function defaultLabel(parts: string[]): string {
  return parts.filter(Boolean).join(' ').slice(0, 100);
}

function label(value: string): string {
  if (value.length > 100)
    throw new ConfigError('label', `must be at most 100 characters; got ${value.length}.`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
  if (/[\u0000-\u001f\u007f]/.test(value))
    throw new ConfigError('label', 'must not contain control characters.');
  return value;
}

/** What every entry's source shares: where the Docker Hub engine is mounted, its tokens' label. */
interface EngineInputs {
  mount: string;
  label: string;
}

/** `engine-mount` and `label`, read once for all the entries of a run. */
function engineInputs(get: Get, defaultLabel: string | undefined): EngineInputs {
  return {
    mount: pathLike('engine-mount', get('engine-mount') ?? 'dockerhub'),
    label: label(get('label') ?? defaultLabel ?? 'vault-docker-login'),
  };
}

function jsonObject(input: string, value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ConfigError(input, 'must be a JSON object such as {"ttl": "1h"}; it is not JSON.');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ConfigError(input, 'must be a JSON object such as {"ttl": "1h"}.');
  return parsed as Record<string, unknown>;
}

/**
 * The source of one registry's credential. The Docker Hub engine issues tokens only on write
 * (with a label); anything else is read unless told, as the orb does.
 */
export function source(
  names: { path: string; method: string; body: string },
  path: string,
  method: string | undefined,
  body: string | Record<string, unknown> | undefined,
  engineMount: string,
  lbl: string,
): Source {
  const engine = path.startsWith(`${engineMount}/token/`);
  if (method !== undefined && method !== 'read' && method !== 'write')
    throw new ConfigError(names.method, `must be read or write; got "${method}".`);
  const m = method ?? (engine ? 'write' : 'read');
  if (body !== undefined && m === 'read')
    throw new ConfigError(
      names.body,
      `is only sent with a write; set ${names.method} to write or leave ${names.body} empty.`,
    );
  if (m === 'read') return { path, method: m };
  const obj = typeof body === 'string' ? jsonObject(names.body, body) : body;
  return { path, method: m, body: obj ?? (engine ? { label: lbl } : {}) };
}

/** The single-registry inputs (account or secret-path, registry, ...) -> the one entry. */
export function singleEntry(
  raw: RawInputs,
  scope: Scope,
  defaults: { label?: string; names?: SettingNames } = {},
): Entry {
  const get = inputReader(raw);
  const { mount, label: lbl } = engineInputs(get, defaults.label);
  const name = naming(defaults.names);
  const account = get('account');
  if (account) segment('account', account);
  const secretPath = get('secret-path');
  if (secretPath) pathLike('secret-path', secretPath);
  if (account && secretPath)
    throw new ConfigError(
      'secret-path',
      `replaces ${name('account')}, which is set too: give the account (the Docker Hub engine path) or the secret path, not both.`,
    );
  let path: string;
  if (secretPath) path = secretPath;
  else if (account) path = `${mount}/token/${account}/${scope}`;
  else
    throw new ConfigError(
      'account',
      `is required (the Docker Hub user configured on the engine), or set ${name('secret-path')} or ${name('registries')}.`,
    );
  const names = { path: 'secret-path', method: 'secret-method', body: 'secret-body' };
  return {
    registry: registry(get('registry')),
    source: source(names, path, get('secret-method'), get('secret-body'), mount, lbl),
    fields: {
      username: fieldName('username-field', get('username-field')),
      password: fieldName('password-field', get('password-field')),
    },
  };
}

const ENTRY_KEYS: Record<string, string> = {
  registry: 'registry',
  secret_path: 'secret_path',
  'secret-path': 'secret_path',
  method: 'method',
  body: 'body',
  username_field: 'username_field',
  'username-field': 'username_field',
  password_field: 'password_field',
  'password-field': 'password_field',
};

/**
 * The parsed `registries` document (YAML or JSON) -> entries, each validated like the single
 * inputs; `engine-mount` and `label` from `raw`.
 */
export function parseEntries(raw: RawInputs, doc: unknown, defaultLabel?: string): Entry[] {
  const get = inputReader(raw);
  const { mount, label: lbl } = engineInputs(get, defaultLabel);
  const set = SINGLE_REGISTRY_INPUTS.filter((n) => get(n) !== undefined);
  if (set.length)
    throw new ConfigError(
      'registries',
      `replaces ${set.join(', ')}, which are set too; give those keys in each entry instead.`,
    );
  const shape =
    'a list of {registry, secret_path, method?, body?, username_field?, password_field?}';
  if (!Array.isArray(doc) || doc.length === 0)
    throw new ConfigError('registries', `must be ${shape} with at least one entry.`);
  const seen = new Set<string>();
  return doc.map((item, i) => {
    const at = `registries[${i}]`;
    if (!item || typeof item !== 'object' || Array.isArray(item))
      throw new ConfigError(at, `must be a mapping; expected ${shape}.`);
    const e: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(item)) {
      const key = ENTRY_KEYS[k];
      if (!key) throw new ConfigError(`${at}.${k}`, `is not a known key; expected ${shape}.`);
      if (key === 'body') {
        if (v !== null && v !== undefined && (typeof v !== 'object' || Array.isArray(v)))
          throw new ConfigError(`${at}.body`, 'must be a mapping (a JSON object).');
      } else if (v !== null && v !== undefined && typeof v !== 'string')
        throw new ConfigError(`${at}.${key}`, 'must be a string.');
      if (v !== null && v !== undefined && v !== '') e[key] = v;
    }
    const str = (k: string) => e[k] as string | undefined;
    const path = str('secret_path');
    if (!path) throw new ConfigError(`${at}.secret_path`, 'is required: the Vault path to use.');
    pathLike(`${at}.secret_path`, path);
    const reg = registry(str('registry'), `${at}.registry`);
    if (seen.has(reg))
      throw new ConfigError(
        `${at}.registry`,
        `"${reg}" appears twice; docker keeps one credential per registry.`,
      );
    seen.add(reg);
    const names = { path: `${at}.secret_path`, method: `${at}.method`, body: `${at}.body` };
    const body = e.body as Record<string, unknown> | undefined;
    return {
      at,
      registry: reg,
      source: source(names, path, str('method'), body, mount, lbl),
      fields: {
        username: fieldName(`${at}.username_field`, str('username_field')),
        password: fieldName(`${at}.password_field`, str('password_field')),
      },
    };
  });
}
