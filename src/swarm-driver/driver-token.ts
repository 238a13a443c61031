// The driver's own Vault token. A borrowed token (a Vault Agent sink file, VAULT_TOKEN) is read
// again for every request. A token the driver logged in for (AppRole, JWT) is kept and replaced
// by a fresh login once half its TTL has passed, so every lease it creates can run its course:
// Vault ends a lease when the token that created it expires. The driver never revokes a token,
// since that would revoke every credential it has handed to running tasks.
import type { AuthMethod, VaultLogin } from '../auth/method.js';
import type { VaultClient } from '../core/vault.js';

export interface DriverToken {
  /** A token to use now. */
  get(vault: VaultClient, now: number): Promise<string>;
  /** Drops a kept token that Vault said is invalid, so the next request logs in again. */
  forget(token: string): void;
}

export function driverToken(method: AuthMethod): DriverToken {
  let kept: { login: VaultLogin; renewAt: number } | undefined;
  let pending: Promise<VaultLogin> | undefined;
  return {
    async get(vault, now) {
      if (kept && now < kept.renewAt) return kept.login.token;
      // Concurrent requests share one login.
      pending ??= method.login(vault, now).finally(() => {
        pending = undefined;
      });
      const login = await pending;
      if (login.revocable)
        kept = {
          login,
          renewAt: login.expiresAt ? now + (login.expiresAt - now) / 2 : Number.POSITIVE_INFINITY,
        };
      return login.token;
    },
    forget(token) {
      if (kept?.login.token === token) kept = undefined;
    },
  };
}
