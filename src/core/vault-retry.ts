// Which Vault answers another attempt may fix: the rule the Vault client retries by. The messages
// (explain.ts) read it to say what happened; it needs nothing from them.
import { VaultHttpError } from './errors.js';
import { judgeHttp } from './http.js';
import type { Verdict } from './retry.js';

/**
 * A Vault standby while the cluster has no active node: 307 with a Location naming the old active
 * node (retry, never follow: it is usually the dead one), or 500 "local node not active but active
 * cluster node not found". Waited out until the deadline (DESIGN.md "OpenBao in HA").
 */
export function electing(status: number, errors: string[]): boolean {
  if (status === 307) return true;
  return status === 500 && errors.some((e) => e.includes('active cluster node not found'));
}

/** Engine errors that repeat on every attempt, so they are never retried. */
const DETERMINISTIC_ENGINE_ERROR =
  /unable to finde? configuration for|requested scope .* is not permitted|invalid slice provided/;

/** Retry what Vault's own client retries, except engine errors that every attempt repeats. */
export function judgeVault(err: unknown): Verdict {
  if (err instanceof VaultHttpError && DETERMINISTIC_ENGINE_ERROR.test(err.errors.join('; ')))
    return { retry: false };
  if (err instanceof VaultHttpError && electing(err.status, err.errors))
    return { retry: true, untilDeadline: true };
  return judgeHttp(err);
}
