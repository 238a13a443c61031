import { describe, expect, it } from 'vitest';
import { VaultHttpError } from '../../src/core/errors.js';
import { unavailable } from '../../src/core/explain.js';
import { judgeHttp, retryableStatus } from '../../src/core/http.js';
import {
  backoff,
  type Clock,
  ELECTION_WAIT_MS,
  parseRetryAfter,
  withRetry,
} from '../../src/core/retry.js';
import type { Transport } from '../../src/core/transport.js';
import { VaultClient } from '../../src/core/vault.js';
import { judgeVault } from '../../src/core/vault-retry.js';

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

  it('waits at least 1 s after a 429: a quota counts per interval, and OpenBao sends Retry-After 0 or none', () => {
    expect(judgeHttp(fail(429)).retryAfterMs).toBe(1000);
    expect(judgeHttp(fail(429, '0')).retryAfterMs).toBe(1000);
    expect(judgeHttp(fail(429, '3')).retryAfterMs).toBe(3000);
    expect(judgeHttp(fail(503)).retryAfterMs).toBeUndefined();
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

describe('a Vault cluster electing a leader', () => {
  /** A transport answering from a script, one answer per request; records what was asked. */
  function scripted(
    answers: { status: number; headers?: Record<string, string>; text?: string }[],
  ) {
    const asked: string[] = [];
    const transport: Transport = {
      clientCert: false,
      close: async () => undefined,
      async request(r) {
        asked.push(`${r.method} ${r.url.href}`);
        const a = answers.shift() ?? { status: 200, text: '{}' };
        return { status: a.status, headers: a.headers ?? {}, text: a.text ?? '' };
      },
    };
    return { transport, asked };
  }
  const redirect = {
    status: 307,
    headers: { location: 'http://127.0.0.1:9/v1/auth/jwt/login' },
  };
  const noActive = {
    status: 500,
    text: '{"errors":["local node not active but active cluster node not found"]}',
  };
  const ok = { status: 200, text: '{"auth":{"client_token":"t","policies":[]}}' };

  it('retries a standby\u2019s 307 and 500 without following the redirect or using up the retries', async () => {
    const clock = fakeClock();
    const { transport, asked } = scripted([redirect, redirect, noActive, redirect, noActive, ok]);
    const retries: [number, boolean][] = [];
    const vault = new VaultClient({
      url: 'http://127.0.0.1:8200',
      transport,
      retries: 1,
      deadline: 60_000,
      clock,
      onRetry: (_what, _wait, n, counted) => retries.push([n, counted]),
    });
    const auth = await vault.jwtLogin('jwt', 'r', 'x.y.z');
    expect(auth.token).toBe('t');
    expect(asked).toHaveLength(6);
    expect(asked.every((a) => a === 'POST http://127.0.0.1:8200/v1/auth/jwt/login')).toBe(true);
    expect(retries.every(([n, counted]) => n === 0 && !counted)).toBe(true);
    expect(Math.max(...clock.slept)).toBeLessThanOrEqual(ELECTION_WAIT_MS);
  });

  it('gives up on an election at the deadline with a message naming the cluster', async () => {
    const clock = fakeClock();
    const { transport } = scripted(Array.from({ length: 100 }, () => redirect));
    const vault = new VaultClient({
      url: 'http://127.0.0.1:8200',
      transport,
      retries: 2,
      deadline: 10_000,
      clock,
    });
    const err = (await vault.jwtLogin('jwt', 'r', 'x.y.z').catch((e: unknown) => e)) as Error;
    expect(clock.now()).toBeLessThanOrEqual(10_000);
    expect(clock.slept.length).toBeGreaterThan(5);
    expect(err.message).toContain('redirected to http://127.0.0.1:9/v1/auth/jwt/login');
    const explained = unavailable(err as VaultHttpError, { retries: 2, timeoutMs: 10_000 });
    expect(explained?.message).toContain('Vault had no active node');
    expect(explained?.hint).toContain('raft list-peers');
  });

  it('counts other 500s against the retries as before', async () => {
    const clock = fakeClock();
    const { transport, asked } = scripted(
      Array.from({ length: 10 }, () => ({ status: 500, text: '{"errors":["internal error"]}' })),
    );
    const vault = new VaultClient({
      url: 'http://127.0.0.1:8200',
      transport,
      retries: 2,
      deadline: 60_000,
      clock,
    });
    await expect(vault.jwtLogin('jwt', 'r', 'x.y.z')).rejects.toThrow('internal error');
    expect(asked).toHaveLength(3);
  });
});

describe('which Vault answers are retried', () => {
  const vaultError = (status: number, text: string) =>
    new VaultHttpError(status, 'dockerhub/token/bot/read', [text]);

  it('never retries an engine error that every attempt repeats, even as a 500', () => {
    for (const text of [
      '1 error occurred:\n\t* unable to finde configuration for "bot"\n\n',
      'requested scope "admin" is not permitted for user "bot"',
      'invalid slice provided',
    ])
      expect(judgeVault(vaultError(500, text))).toEqual({ retry: false });
  });

  it('waits out an election until the deadline; other 500s count as retries', () => {
    expect(judgeVault(vaultError(307, ''))).toEqual({ retry: true, untilDeadline: true });
    expect(judgeVault(vaultError(500, 'active cluster node not found'))).toMatchObject({
      untilDeadline: true,
    });
    expect(judgeVault(vaultError(500, 'internal error'))).toEqual({
      retry: true,
      retryAfterMs: undefined,
    });
    expect(judgeVault(vaultError(400, 'bad request')).retry).toBe(false);
  });
});
