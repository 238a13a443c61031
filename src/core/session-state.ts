// What login leaves for cleanup: the session's state, saved step by step, and the settings
// cleanup needs.
import type { Config } from './config.js';

/** One registry's part of the session. */
export interface LoginRecord {
  registry?: string;
  leaseId?: string;
  leaseDuration?: number;
  expiresAt?: string;
  loggedIn?: boolean;
  /** Vault confirmed the lease revoked (a borrowed token revokes each lease itself). */
  revoked?: boolean;
}

/**
 * What cleanup needs, persisted step by step so a failure half-way still gets cleaned up. The
 * first registry's record sits at the top level (the shape a single-registry login saves);
 * further registries are in `others`.
 */
export interface SessionState extends LoginRecord {
  vaultToken?: string;
  /** When the Vault token ends on its own (ISO time), for a cleanup that cannot reach Vault. */
  vaultTokenExpiresAt?: string;
  /** The user brought the Vault token (VAULT_TOKEN): it is never saved and never revoked. */
  borrowed?: boolean;
  others?: LoginRecord[];
  /** Cleanup already ran (main cleaned up after its own failure, or a second post). */
  done?: boolean;
  /** The credential-helper mode's job directory (core/job-dir.ts): cleanup revokes what it holds. */
  jobDir?: string;
  /** A job directory holding only DOCKER_CONFIG for docker login (a self-hosted runner): removed at cleanup. */
  dockerDir?: string;
}

export interface StateStore {
  save(patch: Partial<SessionState>): void;
  load(): SessionState;
}

/** What cleanup needs of the configuration (the CLI keeps just this between login and logout). */
export type CleanupConfig = Pick<
  Config,
  | 'url'
  | 'namespace'
  | 'authNamespace'
  | 'tls'
  | 'retries'
  | 'timeoutMs'
  | 'logout'
  | 'revoke'
  | 'registry'
>;

/** Saves a patch to registry `i`'s record. */
export function saveRecord(state: StateStore, i: number, patch: LoginRecord): void {
  if (i === 0) {
    state.save(patch);
    return;
  }
  const others = [...(state.load().others ?? [])];
  others[i - 1] = { ...others[i - 1], ...patch };
  state.save({ others });
}
