// How long a cached credential and a cached Vault token are handed out.
//
// A credential is reused until `renew_before` (default 60 s, at most half its life) before it
// stops working, so a pull that starts with it has that long to authenticate its requests. It
// stops working when its lease ends or when the Vault token that minted it expires (Vault revokes
// a token's leases with it), whichever is first. A secret without a lease (KV) is reused for
// `static_ttl`. A Vault token is reused for new leases until half its TTL has passed, so a lease
// minted with it still has a useful life.

export interface Lifetimes {
  renewBeforeMs: number;
  staticTtlMs: number;
}

export const DEFAULT_LIFETIMES: Lifetimes = { renewBeforeMs: 60_000, staticTtlMs: 300_000 };

/** Epoch ms when a credential minted at `now` that works until `endsAt` stops being handed out. */
export function useUntil(now: number, endsAt: number | undefined, l: Lifetimes): number {
  if (endsAt === undefined) return now + l.staticTtlMs;
  const life = Math.max(0, endsAt - now);
  return endsAt - Math.min(l.renewBeforeMs, life / 2);
}

/** Epoch ms when a credential stops working: its lease's end, or its token's, whichever is first. */
export function endsAt(
  now: number,
  lease: { leaseId?: string; leaseDuration: number },
  tokenExpiresAt: number | undefined,
): number | undefined {
  if (!lease.leaseId || lease.leaseDuration <= 0) return undefined;
  const leaseEnd = now + lease.leaseDuration * 1000;
  return tokenExpiresAt === undefined ? leaseEnd : Math.min(leaseEnd, tokenExpiresAt);
}

/** Whether a token issued at `issuedAt` may mint the next lease at `now`. */
export function tokenReusable(t: { issuedAt: number; expiresAt?: number }, now: number): boolean {
  if (t.expiresAt === undefined) return true;
  return now < t.issuedAt + (t.expiresAt - t.issuedAt) / 2;
}
