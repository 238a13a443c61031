// Vault's answer -> the bytes the task receives, as its secret's labels asked. Errors name fields
// present, never a value.
import { dockerAuthString, fieldsOf, toCredential, type VaultSecret } from '../core/credential.js';
import { VdlError } from '../core/errors.js';
import { HOST_FILE_NAMES } from '../core/host-config-names.js';
import { DOCKER_HUB, DOCKER_HUB_AUTH_KEY } from '../core/registry-name.js';
import { naming } from '../core/setting-names.js';
import type { Delivery } from './labels.js';

export interface Delivered {
  value: Buffer;
  doNotReuse: boolean;
  /** What the log may say about it (identifiers, never the value). */
  leaseId?: string;
  leaseSeconds?: number;
  wrap?: { accessor: string; ttl: number; creationPath: string };
}

interface WrapInfo {
  token?: string;
  accessor?: string;
  ttl?: number;
  creation_path?: string;
}

/** The driver's file names the connection; each secret's labels name its fields. */
const SECRET_NAMES = naming({
  ...HOST_FILE_NAMES,
  'username-field': 'vault.username_field',
  'password-field': 'vault.password_field',
});

function fieldValue(answer: VaultSecret, field: string, path: string): Buffer {
  const { at, fields } = fieldsOf(answer);
  const v = fields[field];
  if (v === undefined || v === null || v === '')
    throw new VdlError(
      'credential',
      `The answer at ${path} (${at}) has no non-empty field "${field}" (vault.field); fields present: ${Object.keys(fields).join(', ') || '(none)'}.`,
      'Set vault.field to one of them.',
    );
  // Text as is; anything else (a number, a nested object) as JSON.
  return Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
}

function dockerConfig(answer: VaultSecret, d: Delivery & { kind: 'docker-config' }, path: string) {
  const auth = dockerAuthString(toCredential(answer, Date.now(), d.fields, path, SECRET_NAMES));
  const key = d.registry === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : d.registry;
  return Buffer.from(`${JSON.stringify({ auths: { [key]: { auth } } })}\n`);
}

export function deliver(answer: unknown, delivery: Delivery, path: string): Delivered {
  const secret = (answer ?? {}) as VaultSecret & { wrap_info?: WrapInfo | null };
  if (delivery.kind === 'wrapped') {
    const w = secret.wrap_info;
    if (!w?.token)
      throw new VdlError(
        'vault',
        `Vault answered ${path} without wrapping it (no wrap_info), so nothing was delivered.`,
        'Something between the driver and Vault dropped the X-Vault-Wrap-TTL header: check proxies in front of Vault.',
      );
    return {
      value: Buffer.from(w.token),
      doNotReuse: true,
      wrap: { accessor: w.accessor ?? '', ttl: w.ttl ?? 0, creationPath: w.creation_path ?? '' },
    };
  }
  const value =
    delivery.kind === 'field'
      ? fieldValue(secret, delivery.field, path)
      : dockerConfig(secret, delivery, path);
  const leaseId = secret.lease_id || undefined;
  return {
    value,
    doNotReuse: leaseId !== undefined,
    leaseId,
    leaseSeconds: leaseId ? (secret.lease_duration ?? 0) : undefined,
  };
}
