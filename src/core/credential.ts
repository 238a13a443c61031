// A Vault answer -> the registry credential. Docker Hub engine first; field detection for other sources.
import { VdlError } from './errors.js';

export interface Credential {
  username: string;
  secret: string;
  leaseId?: string;
  /** Seconds; 0 for a static secret. */
  leaseDuration: number;
  /** ISO time the lease ends on its own, when it has one. */
  expiresAt?: string;
}

export interface FieldMap {
  username?: string;
  password?: string;
}

const SECRET_FIELDS = ['token', 'password', 'secret', 'access_token'] as const;

interface VaultSecret {
  lease_id?: string;
  lease_duration?: number;
  data?: Record<string, unknown>;
}

/** `data`, or KV v2's `data.data`. */
function fieldsOf(answer: VaultSecret): Record<string, unknown> {
  const data = answer.data ?? {};
  const inner = data.data;
  if (inner && typeof inner === 'object' && 'metadata' in data)
    return inner as Record<string, unknown>;
  return data;
}

function pick(
  fields: Record<string, unknown>,
  name: string | undefined,
  candidates: readonly string[],
) {
  const names = name ? [name] : candidates;
  const found = names.find((n) => typeof fields[n] === 'string' && fields[n] !== '');
  return found === undefined ? undefined : (fields[found] as string);
}

export function toCredential(answer: unknown, now: number, map: FieldMap = {}): Credential {
  const secret = (answer ?? {}) as VaultSecret;
  const fields = fieldsOf(secret);
  const seen = Object.keys(fields).join(', ') || '(none)';
  const username = pick(fields, map.username, ['username']);
  const value = pick(fields, map.password, SECRET_FIELDS);
  if (!username || !value) {
    const missing = !username
      ? `username (${map.username ?? 'username'})`
      : `secret (${map.password ?? SECRET_FIELDS.join(' | ')})`;
    throw new VdlError(
      'credential',
      `The Vault answer has no ${missing} field; fields present: ${seen}.`,
      'Point secret-path at a secret holding a username and a token or password.',
    );
  }
  const leaseDuration = secret.lease_duration ?? 0;
  return {
    username,
    secret: value,
    leaseId: secret.lease_id || undefined,
    leaseDuration,
    expiresAt:
      secret.lease_id && leaseDuration > 0
        ? new Date(now + leaseDuration * 1000).toISOString()
        : undefined,
  };
}

/** The form docker writes to config.json; it is as secret as the token. */
export function dockerAuthString(c: Pick<Credential, 'username' | 'secret'>): string {
  return Buffer.from(`${c.username}:${c.secret}`).toString('base64');
}
