// The opt-in debug log of the host entry points: VAULT_DOCKER_LOGIN_DEBUG_LOG names a file, and
// each answer adds one line with what it did and how long it took. Only names, ids and numbers
// can be written (the fields below): never a secret. node:fs only; nothing when unset.
import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';

export const DEBUG_LOG_ENV = 'VAULT_DOCKER_LOGIN_DEBUG_LOG';

/** What a line may say. Lease ids are names of leases, useless without a token allowed to them. */
export interface DebugFields {
  registry?: string;
  image?: string;
  secret_name?: string;
  /** hit, not-found, failed, minted, revoked... */
  answer?: string;
  lease?: string;
  ttl_s?: number;
  cache_s?: number;
  /** The error's kind (config, vault-login, network...), never its text. */
  error?: string;
  /** Milliseconds since the process started. */
  ms?: number;
}

/**
 * Appends `event` and its fields to the log when one is set. The file is opened without following
 * a symlink and written only when it is this user's and closed to others; a log that cannot be
 * written is skipped, never a reason to fail an answer.
 */
export function debugLog(
  env: NodeJS.ProcessEnv,
  who: string,
  event: string,
  fields: DebugFields,
): void {
  const file = env[DEBUG_LOG_ENV];
  if (!file) return;
  let fd: number | undefined;
  try {
    fd = openSync(
      file,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
      0o600,
    );
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== (process.getuid?.() ?? 0) || (st.mode & 0o077) !== 0) return;
    const parts = Object.entries({ ms: Math.round(performance.now()), ...fields })
      .filter(([, v]) => v !== undefined && v !== '')
      .map(([k, v]) => `${k}=${String(v).replace(/\s+/g, '_')}`);
    writeSync(
      fd,
      `${new Date().toISOString()} ${who}[${process.pid}] ${event} ${parts.join(' ')}\n`,
    );
  } catch {
    // A log that cannot be written is skipped.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
