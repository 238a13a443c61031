// How a host entry point (credential helper, kubelet provider, Swarm driver) gets a Vault token.
import type { VaultClient } from '../core/vault.js';

export interface VaultLogin {
  token: string;
  /** A token this tool logged in for, so it may revoke it; a borrowed one (VAULT_TOKEN, an Agent sink) is not. */
  revocable: boolean;
  /** Epoch ms when the token expires, when Vault said (0 TTL: never). */
  expiresAt?: number;
}

export interface AuthMethod {
  /** For messages: "token file /run/vault/token", "JWT role pull on auth/jwt". */
  readonly describe: string;
  login(vault: VaultClient, now: number): Promise<VaultLogin>;
}

/**
 * Where a method keeps what must outlive one process: an unwrapped AppRole secret_id (its
 * wrapping token works once). Memory for a long-running driver; the private cache for a helper.
 */
export interface Keeper {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

export function memoryKeeper(): Keeper {
  const m = new Map<string, string>();
  return { get: (k) => m.get(k), set: (k, v) => void m.set(k, v) };
}

/** A login's expiry from its lease duration in seconds. */
export function expiry(now: number, leaseDuration: number): number | undefined {
  return leaseDuration > 0 ? now + leaseDuration * 1000 : undefined;
}
