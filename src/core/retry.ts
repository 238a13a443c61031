// Jittered exponential backoff bounded by an attempt count and a deadline.

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface RetryPolicy {
  /** Extra attempts after the first. */
  retries: number;
  /** Epoch ms after which no attempt starts and no wait is taken. */
  deadline: number;
  baseMs?: number;
  maxMs?: number;
  clock?: Clock;
  random?: () => number;
}

/** An attempt's failure says whether another attempt may help, and how long the server asked to wait. */
export interface Verdict {
  retry: boolean;
  retryAfterMs?: number;
  /**
   * A wait for the server to recover by itself (a Vault cluster electing a leader): retried up to
   * the deadline without using up the attempt count, waiting at most `ELECTION_WAIT_MS` each time.
   */
  untilDeadline?: boolean;
}

/** An election takes 2-9 s (DESIGN.md "OpenBao in HA"): poll it often enough not to overshoot. */
export const ELECTION_WAIT_MS = 1000;

/** Delay before retry number `n` (0-based): base*2^n, jittered to 50-100 %, at most `maxMs`. */
export function backoff(n: number, baseMs: number, maxMs: number, random: () => number): number {
  const full = Math.min(maxMs, baseMs * 2 ** n);
  return Math.round(full / 2 + (random() * full) / 2);
}

/** `Retry-After` as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export async function withRetry<T>(
  attempt: (remainingMs: number) => Promise<T>,
  judge: (err: unknown) => Verdict,
  policy: RetryPolicy,
  /** `n` counts the retries that use up `retries`; `counted` is false for an untilDeadline one. */
  onRetry?: (err: unknown, waitMs: number, n: number, counted: boolean) => void,
): Promise<T> {
  const clock = policy.clock ?? systemClock;
  const random = policy.random ?? Math.random;
  const baseMs = policy.baseMs ?? 500;
  const maxMs = policy.maxMs ?? 8000;
  let counted = 0;
  for (let n = 0; ; n++) {
    try {
      return await attempt(Math.max(1, policy.deadline - clock.now()));
    } catch (err) {
      const verdict = judge(err);
      const free = verdict.untilDeadline === true;
      if (!verdict.retry || (!free && counted >= policy.retries)) throw err;
      const cap = free ? Math.min(maxMs, ELECTION_WAIT_MS) : maxMs;
      const wait = Math.max(verdict.retryAfterMs ?? 0, backoff(n, baseMs, cap, random));
      // No point waiting past the deadline: the next attempt could not run.
      if (clock.now() + wait >= policy.deadline) throw err;
      if (!free) counted++;
      onRetry?.(err, wait, counted, !free);
      await clock.sleep(wait);
    }
  }
}
