// Raw inputs (strings, as every CI hands them over) -> a typed, validated Config.
// zod/mini: the same validators at a third of the bundle size (each bundle must stay <= 400 KB).
import * as z from 'zod/mini';
import { ConfigError } from './errors.js';

export const SCOPES = ['read', 'write', 'admin', 'public_read'] as const;
export type Scope = (typeof SCOPES)[number];
export const DOCKER_HUB = 'docker.io';

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
  /** Where the credential comes from. */
  source: { path: string; method: 'write' | 'read'; body?: Record<string, unknown> };
  scope: Scope;
  registry: string;
  logout: boolean;
  revoke: boolean;
  timeoutMs: number;
  retries: number;
  tls: TlsConfig;
}

export type RawInputs = Record<string, string | undefined>;

const SEGMENTS = 'letters, digits and . _ - @ : segments joined by single "/"';

/** A Vault path or path segment: no traversal, no query, no whitespace, no leading slash. */
function pathLike(input: string, value: string): string {
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

function segment(input: string, value: string): string {
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
  const n = z.coerce
    .number()
    .check(z.multipleOf(1), z.minimum(min), z.maximum(max))
    .safeParse(value);
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
function registry(value: string | undefined): string {
  if (!value) return DOCKER_HUB;
  const host = value.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (!/^[A-Za-z0-9.-]+(:\d+)?(\/[A-Za-z0-9._-]+)*$/.test(host)) {
    throw new ConfigError(
      'registry',
      `must be a registry host such as ghcr.io or 127.0.0.1:5000; got "${value}".`,
    );
  }
  return /^(index\.|registry-1\.)?docker\.io$/.test(host) ? DOCKER_HUB : host;
}

/** Cuts a default label to Docker Hub's 100 characters. */
export function defaultLabel(parts: string[]): string {
  return parts.filter(Boolean).join(' ').slice(0, 100);
}

/**
 * Validates inputs. `env` supplies the standard VAULT_* fallbacks; `defaults.label` is the
 * adapter's own label (names the repository and run).
 */
export function parseConfig(
  raw: RawInputs,
  env: RawInputs = {},
  defaults: { label?: string } = {},
): Config {
  const get = (name: string) => {
    const v = raw[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const url = vaultUrl(get('url') ?? env.VAULT_ADDR);
  const namespace = get('namespace') ?? env.VAULT_NAMESPACE;
  if (namespace) pathLike('namespace', namespace);
  const authNamespace = get('auth-namespace') ?? namespace;
  if (authNamespace) pathLike('auth-namespace', authNamespace);
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
  const account = get('account');
  if (account) segment('account', account);
  const secretPath = get('secret-path');
  let path: string;
  if (secretPath) path = pathLike('secret-path', secretPath);
  else if (account) path = `${engineMount}/token/${account}/${scope}`;
  else
    throw new ConfigError(
      'account',
      'is required (the Docker Hub user configured on the engine), or set secret-path.',
    );

  const lbl = label(get('label') ?? defaults.label ?? 'vault-docker-login');
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
    authMount,
    role,
    audience: get('audience'),
    source: { path, method: 'write', body: { label: lbl } },
    scope,
    registry: registry(get('registry')),
    logout: bool('logout', get('logout'), true),
    revoke: bool('revoke', get('revoke'), true),
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
  };
}
