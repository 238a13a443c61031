import { describe, expect, it } from 'vitest';
import { judgeHttp, retryableStatus } from '../../src/core/http.js';
import { backoff, type Clock, parseRetryAfter, withRetry } from '../../src/core/retry.js';

function fakeClock(): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

const fail = (status: number, retryAfter?: string) =>
  Object.assign(new Error(`HTTP ${status}`), { status, retryAfter });

describe('retry', () => {
  it('retries 412, 429 and 5xx except 501; other 4xx are final', () => {
    expect([412, 429, 500, 502, 503, 504].every(retryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 405, 501].some(retryableStatus)).toBe(false);
  });

  it('backs off exponentially with 50-100 % jitter, capped', () => {
    expect(backoff(0, 500, 8000, () => 0)).toBe(250);
    expect(backoff(0, 500, 8000, () => 1)).toBe(500);
    expect(backoff(3, 500, 8000, () => 1)).toBe(4000);
    expect(backoff(10, 500, 8000, () => 1)).toBe(8000);
  });

  it('parses Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });

  it('stops after the attempt count and honours Retry-After', async () => {
    const clock = fakeClock();
    let calls = 0;
    const err = await withRetry(
      async () => {
        calls++;
        throw fail(429, '2');
      },
      judgeHttp,
      { retries: 2, deadline: 60_000, clock, random: () => 0 },
    ).catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect(clock.slept).toEqual([2000, 2000]);
    expect((err as Error).message).toBe('HTTP 429');
  });

  it('does not retry a final 4xx', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw fail(403);
        },
        judgeHttp,
        { retries: 5, deadline: 60_000, clock: fakeClock() },
      ),
    ).rejects.toThrow('HTTP 403');
    expect(calls).toBe(1);
  });

  it('never waits past the deadline', async () => {
    const clock = fakeClock();
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw fail(503, '30');
        },
        judgeHttp,
        { retries: 5, deadline: 10_000, clock },
      ),
    ).rejects.toThrow('HTTP 503');
    expect(calls).toBe(1);
    expect(clock.slept).toEqual([]);
  });

  it('succeeds after transient failures and passes the remaining budget', async () => {
    const clock = fakeClock();
    const budgets: number[] = [];
    const out = await withRetry(
      async (remaining) => {
        budgets.push(remaining);
        if (budgets.length < 3) throw fail(502);
        return 'ok';
      },
      judgeHttp,
      { retries: 2, deadline: 20_000, clock, random: () => 1, baseMs: 1000 },
    );
    expect(out).toBe('ok');
    expect(budgets).toEqual([20_000, 19_000, 17_000]);
  });
});
