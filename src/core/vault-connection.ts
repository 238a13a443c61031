// The Vault connection every entry point needs, host entry points included: the address, the
// namespaces, the time limit and retries, and TLS, each with its standard VAULT_* fallback.
import { ConfigError } from './errors.js';
import type { SettingNames } from './setting-names.js';
import { bool, inputReader, int, pathLike, type RawInputs } from './validators.js';

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

export interface Connection {
  url: string;
  /** Namespace for the secrets engine and the lease. */
  namespace?: string;
  /** Namespace of the auth mount (and so of the token); defaults to `namespace`. */
  authNamespace?: string;
  timeoutMs: number;
  retries: number;
  tls: TlsConfig;
  /** How the entry point names settings in messages; the Action's inputs when not given. */
  names?: SettingNames;
}

/** TLS material given inline (PEM or base64); the CLI takes file paths instead, kept out of argv. */
export const TLS_INPUT_NAMES = [
  'ca-certificate',
  'client-certificate',
  'client-key',
  'tls-skip-verify',
] as const;

function vaultUrl(value: string | undefined): string {
  if (!value)
    throw new ConfigError(
      'url',
      'is required (or set VAULT_ADDR); expected https://vault.example.com.',
    );
  const u = URL.canParse(value) ? new URL(value) : undefined;
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname) {
    throw new ConfigError(
      'url',
      `must be an http(s) URL such as https://vault.example.com; got "${value}".`,
    );
  }
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

/** The connection inputs (url, namespaces, timeout, retries, TLS) with their VAULT_* fallbacks. */
export function parseConnection(
  raw: RawInputs,
  env: RawInputs = {},
  names?: SettingNames,
): Connection {
  const get = inputReader(raw);
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
