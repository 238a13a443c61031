// Raw inputs (strings, as every CI hands them over) -> a typed, validated Config.
// zod/mini: the same validators at a third of the bundle size (each bundle must stay <= 400 KB).
import * as z from 'zod/mini';
import type { FieldMap } from './credential.js';
import { ConfigError } from './errors.js';
import { DOCKER_HUB, registryKey } from './registry-name.js';
import { naming, type SettingNames } from './setting-names.js';

export const SCOPES = ['read', 'write', 'admin', 'public_read'] as const;
export type Scope = (typeof SCOPES)[number];

export interface TlsConfig {
  /** PEM text (decoded from base64 when given that way). */
  ca?: string;
  caFile?: string;
  cert?: string;
  certFile?: string;
  key?: string;
  keyFile?: string;
  skipVerify: boolean;
}

export interface Config {
  url: string;
  /** Namespace for the secrets engine and the lease. */
  namespace?: string;
  /** Namespace of the auth mount (and so of the token); defaults to `namespace`. */
  authNamespace?: string;
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
  timeoutMs: number;
  retries: number;
  tls: TlsConfig;
  /** How the entry point names settings in messages; the Action's inputs when not given. */
  names?: SettingNames;
}

export type RawInputs = Record<string, string | undefined>;

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

/** TLS material given inline (PEM or base64); the CLI takes file paths instead, kept out of argv. */
export const TLS_INPUT_NAMES = [
  'ca-certificate',
  'client-certificate',
  'client-key',
  'tls-skip-verify',
] as const;

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

const SEGMENTS = 'letters, digits and . _ - @ : segments joined by single "/"';

/** A Vault path or path segment: no traversal, no query, no whitespace, no leading slash. */
export function pathLike(input: string, value: string): string {
  const bad = (why: string) => new ConfigError(input, `${why}; expected ${SEGMENTS}.`);
  if (value.startsWith('/')) throw bad('must not start with "/"');
  if (/[?#]/.test(value)) throw bad('must not contain "?" or "#"');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
  if (/[\s\u0000-\u001f\u007f]/.test(value))
    throw bad('must not contain whitespace or control characters');
  if (value.split('/').some((s) => s === '..' || s === '.'))
    throw bad('must not contain "." or ".." segments');
  if (value.endsWith('/') || value.includes('//')) throw bad('must not have empty segments');
  return value;
}

export function segment(input: string, value: string): string {
  pathLike(input, value);
  if (value.includes('/'))
    throw new ConfigError(input, `must be a single name without "/"; got "${value}".`);
  return value;
}

function bool(input: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (/^(true|yes|1)$/i.test(value)) return true;
  if (/^(false|no|0)$/i.test(value)) return false;
  throw new ConfigError(input, `must be true or false; got "${value}".`);
}

function int(input: string, value: string | undefined, fallback: number, min: number, max: number) {
  if (value === undefined || value === '') return fallback;
  // Digits only: Number() would also take "0x2", "1e1" or " 2 ".
  const n = z.coerce
    .number()
    .check(z.multipleOf(1), z.minimum(min), z.maximum(max))
    .safeParse(/^\d+$/.test(value) ? value : Number.NaN);
  if (!n.success)
    throw new ConfigError(input, `must be a whole number from ${min} to ${max}; got "${value}".`);
  return n.data;
}

function vaultUrl(value: string | undefined): string {
  if (!value)
    throw new ConfigError(
      'url',
      'is required (or set VAULT_ADDR); expected https://vault.example.com.',
    );
  const parsed = z.url({ protocol: /^https?$/ }).safeParse(value);
  if (!parsed.success) {
    throw new ConfigError(
      'url',
      `must be an http(s) URL such as https://vault.example.com; got "${value}".`,
    );
  }
  const u = new URL(value);
  if (u.search || u.hash || u.username || u.password) {
    throw new ConfigError('url', 'must not carry a query, fragment or credentials.');
  }
  return value.replace(/\/+$/, '');
}

/** PEM as given, or base64 of a PEM. */
function pem(input: string, value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (value.includes('-----BEGIN')) return value;
  const decoded = Buffer.from(value.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (!decoded.includes('-----BEGIN')) {
    throw new ConfigError(input, 'must be a PEM block (-----BEGIN ...) or its base64 encoding.');
  }
  return decoded;
}

function label(value: string): string {
  if (value.length > 100)
    throw new ConfigError('label', `must be at most 100 characters; got ${value.length}.`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
  if (/[\u0000-\u001f\u007f]/.test(value))
    throw new ConfigError('label', 'must not contain control characters.');
  return value;
}

/** Registry host[:port][/path] or Docker Hub; never a URL with credentials. */
export function registry(value: string | undefined, input = 'registry'): string {
  if (!value) return DOCKER_HUB;
  const host = value.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (!/^[A-Za-z0-9.-]+(:\d+)?(\/[A-Za-z0-9._-]+)*$/.test(host)) {
    throw new ConfigError(
      input,
      `must be a registry host such as ghcr.io or 127.0.0.1:5000; got "${value}".`,
    );
  }
  return registryKey(host) === DOCKER_HUB ? DOCKER_HUB : host;
}

/** Cuts a default label to Docker Hub's 100 characters. */
export function defaultLabel(parts: string[]): string {
  return parts.filter(Boolean).join(' ').slice(0, 100);
}

type Get = (name: string) => string | undefined;

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

export function fieldName(input: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(value))
    throw new ConfigError(
      input,
      `must be a field name of the secret such as username or access_token (letters, digits, "_" and "-"); got "${value}".`,
    );
  return value;
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

function singleEntry(
  get: Get,
  engineMount: string,
  scope: Scope,
  lbl: string,
  settings?: SettingNames,
): Entry {
  const name = naming(settings);
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
  else if (account) path = `${engineMount}/token/${account}/${scope}`;
  else
    throw new ConfigError(
      'account',
      `is required (the Docker Hub user configured on the engine), or set ${name('secret-path')} or ${name('registries')}.`,
    );
  const names = { path: 'secret-path', method: 'secret-method', body: 'secret-body' };
  return {
    registry: registry(get('registry')),
    source: source(names, path, get('secret-method'), get('secret-body'), engineMount, lbl),
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

/** The parsed `registries` document (YAML or JSON) -> entries, each validated like the single inputs. */
function registryEntries(doc: unknown, get: Get, engineMount: string, lbl: string): Entry[] {
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
      source: source(names, path, str('method'), body, engineMount, lbl),
      fields: {
        username: fieldName(`${at}.username_field`, str('username_field')),
        password: fieldName(`${at}.password_field`, str('password_field')),
      },
    };
  });
}

/** The Vault connection every entry point needs, host entry points included. */
export type Connection = Pick<
  Config,
  'url' | 'namespace' | 'authNamespace' | 'timeoutMs' | 'retries' | 'tls' | 'names'
>;

const getter = (raw: RawInputs) => (name: string) => {
  const v = raw[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
};

/** The connection inputs (url, namespaces, timeout, retries, TLS) with their VAULT_* fallbacks. */
export function parseConnection(
  raw: RawInputs,
  env: RawInputs = {},
  names?: SettingNames,
): Connection {
  const get = getter(raw);
  const url = vaultUrl(get('url') ?? env.VAULT_ADDR);
  const namespace = get('namespace') ?? env.VAULT_NAMESPACE;
  if (namespace) pathLike('namespace', namespace);
  const authNamespace = get('auth-namespace') ?? namespace;
  if (authNamespace) pathLike('auth-namespace', authNamespace);
  const skipVerify = bool(
    'tls-skip-verify',
    get('tls-skip-verify') ?? env.VAULT_SKIP_VERIFY,
    false,
  );
  const cert = pem('client-certificate', get('client-certificate'));
  const key = pem('client-key', get('client-key'));
  const certFile = cert ? undefined : env.VAULT_CLIENT_CERT || undefined;
  const keyFile = key ? undefined : env.VAULT_CLIENT_KEY || undefined;
  if (Boolean(cert ?? certFile) !== Boolean(key ?? keyFile)) {
    throw new ConfigError(
      'client-certificate',
      'and client-key must be given together (PEM or base64).',
    );
  }
  const ca = pem('ca-certificate', get('ca-certificate'));
  return {
    url,
    namespace,
    authNamespace,
    timeoutMs: int('timeout', get('timeout'), 60, 1, 3600) * 1000,
    retries: int('retries', get('retries'), 2, 0, 10),
    tls: {
      ca,
      caFile: ca ? undefined : env.VAULT_CACERT || undefined,
      cert,
      certFile,
      key,
      keyFile,
      skipVerify,
    },
    ...(names ? { names } : {}),
  };
}

/** The `registries` document (parsed) -> entries; `engine-mount` and `label` from `raw`. */
export function parseEntries(raw: RawInputs, registries: unknown, defaultLabel?: string): Entry[] {
  const get = getter(raw);
  const engineMount = pathLike('engine-mount', get('engine-mount') ?? 'dockerhub');
  const lbl = label(get('label') ?? defaultLabel ?? 'vault-docker-login');
  return registryEntries(registries, get, engineMount, lbl);
}

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
  const get = getter(raw);
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
  const engineMount = pathLike('engine-mount', get('engine-mount') ?? 'dockerhub');
  const lbl = label(get('label') ?? defaults.label ?? 'vault-docker-login');
  const entries =
    defaults.registries === undefined
      ? [singleEntry(get, engineMount, scope, lbl, defaults.names)]
      : registryEntries(defaults.registries, get, engineMount, lbl);
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
