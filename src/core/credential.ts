// A Vault answer -> the registry credential. Docker Hub engine first; field detection for other sources.
import { VdlError } from './errors.js';
import { type Naming, naming } from './setting-names.js';

export interface Credential {
  username: string;
  secret: string;
  leaseId?: string;
  /** Seconds; 0 for a static secret. */
  leaseDuration: number;
  /** ISO time the lease ends on its own, when it has one. */
  expiresAt?: string;
}

/** Field names given by the user; undefined means detect. */
export interface FieldMap {
  username?: string;
  password?: string;
}

export const SECRET_FIELDS = ['token', 'password', 'secret', 'access_token'] as const;

export interface VaultSecret {
  lease_id?: string;
  lease_duration?: number;
  data?: Record<string, unknown>;
}

/** `data`, or KV v2's `data.data` (told by its `metadata` sibling). */
export function fieldsOf(answer: VaultSecret): { at: string; fields: Record<string, unknown> } {
  const data = answer.data ?? {};
  const inner = data.data;
  if (inner && typeof inner === 'object' && !Array.isArray(inner) && 'metadata' in data)
    return { at: 'data.data', fields: inner as Record<string, unknown> };
  return { at: 'data', fields: data };
}

const text = (fields: Record<string, unknown>, name: string) =>
  typeof fields[name] === 'string' && fields[name] !== '' ? (fields[name] as string) : undefined;

/** Every value that may be the secret, so it can be masked before mapping can fail. */
export function secretCandidates(answer: unknown, map: FieldMap = {}): string[] {
  const { fields } = fieldsOf((answer ?? {}) as VaultSecret);
  const names = map.password ? [map.password, ...SECRET_FIELDS] : SECRET_FIELDS;
  return names.map((n) => text(fields, n)).filter((v): v is string => v !== undefined);
}

/** Maps the answer; a missing field is an error naming the fields present, never a value. */
export function toCredential(
  answer: unknown,
  now: number,
  map: FieldMap = {},
  path = 'the Vault path',
  /** Names the field settings in the entry point's words. */
  name: Naming = naming(),
): Credential {
  const secret = (answer ?? {}) as VaultSecret;
  const { at, fields } = fieldsOf(secret);
  const seen = Object.keys(fields).join(', ') || '(none)';
  const fail = (what: string, hint: string) =>
    new VdlError(
      'credential',
      `The answer at ${path} (${at}) has ${what}; fields present: ${seen}.`,
      hint,
    );
  const passwordName = map.password ?? SECRET_FIELDS.find((n) => text(fields, n) !== undefined);
  const value = passwordName === undefined ? undefined : text(fields, passwordName);
  if (value === undefined) {
    throw map.password
      ? fail(
          `no non-empty text field "${map.password}" (${name('password-field')})`,
          `Set ${name('password-field')} to the field holding the secret.`,
        )
      : fail(
          `no ${SECRET_FIELDS.join(', ')} field`,
          `Set ${name('password-field')} to the field holding the secret.`,
        );
  }
  const usernameName = map.username ?? 'username';
  const username = text(fields, usernameName);
  if (username === undefined) {
    throw fail(
      `no non-empty text field "${usernameName}" for the username`,
      `Set ${name('username-field')} to the field holding the user name.`,
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
