// The credential helper's rules that need no service: how long credentials and tokens are reused,
// its own configuration section, what the cache answers, the lock, and its version.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CacheDoc, emptyCache, lookup } from '../../src/credential-helper/cache.js';
import { configStamp } from '../../src/credential-helper/config-stamp.js';
import {
  DEFAULT_LIFETIMES,
  endsAt,
  tokenReusable,
  useUntil,
} from '../../src/credential-helper/lifetime.js';
import { startTime, withLock } from '../../src/credential-helper/lock.js';
import { VERSION } from '../../src/credential-helper/protocol.js';

const dir = mkdtempSync(join(tmpdir(), 'vdl-helper-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lifetimes', () => {
  const now = 1_000_000;
  it('hands a 300 s lease out for 240 s, a 10 s one for 5 s, a static secret for static_ttl', () => {
    expect(useUntil(now, now + 300_000, DEFAULT_LIFETIMES)).toBe(now + 240_000);
    expect(useUntil(now, now + 10_000, DEFAULT_LIFETIMES)).toBe(now + 5_000);
    expect(useUntil(now, undefined, DEFAULT_LIFETIMES)).toBe(now + 300_000);
    expect(useUntil(now, undefined, { ...DEFAULT_LIFETIMES, staticTtlMs: 0 })).toBe(now);
  });

  it('ends a credential with its lease or the token that minted it, whichever is first', () => {
    expect(endsAt(now, { leaseId: 'x', leaseDuration: 300 }, undefined)).toBe(now + 300_000);
    expect(endsAt(now, { leaseId: 'x', leaseDuration: 300 }, now + 60_000)).toBe(now + 60_000);
    expect(endsAt(now, { leaseDuration: 2764800 }, now + 60_000)).toBeUndefined();
  });

  it('reuses a Vault token until half its TTL has passed; one without expiry always', () => {
    const t = { issuedAt: now, expiresAt: now + 600_000 };
    expect(tokenReusable(t, now + 299_000)).toBe(true);
    expect(tokenReusable(t, now + 300_000)).toBe(false);
    expect(tokenReusable({ issuedAt: now }, now + 1e9)).toBe(true);
  });
});

describe('the cache lookup', () => {
  const doc = (): CacheDoc => ({
    ...emptyCache('/c.yml', 'stamp-1'),
    registries: ['docker.io', 'r.example'],
    entries: { 'r.example': { username: 'u', secret: 's', useUntil: 2000, source: '[]' } },
  });
  it('answers a fresh entry, not-found for an unconfigured registry, and misses otherwise', () => {
    expect(lookup(doc(), '/c.yml', 'stamp-1', 'r.example', 1000).kind).toBe('hit');
    expect(lookup(doc(), '/c.yml', 'stamp-1', 'ghcr.io', 1000).kind).toBe('not-found');
    expect(lookup(doc(), '/c.yml', 'stamp-1', 'r.example', 2000).kind).toBe('miss');
    expect(lookup(doc(), '/c.yml', 'stamp-1', 'docker.io', 1000).kind).toBe('miss');
    // Another stamp (the file or VAULT_* changed) or another file: nothing is trusted.
    expect(lookup(doc(), '/c.yml', 'stamp-2', 'r.example', 1000).kind).toBe('miss');
    expect(lookup(doc(), '/d.yml', 'stamp-1', 'ghcr.io', 1000).kind).toBe('miss');
    expect(lookup(undefined, '/c.yml', 'stamp-1', 'r.example', 1000).kind).toBe('miss');
  });

  it('stamps the file and the VAULT_* variables that fill it', () => {
    const f = join(dir, 'c.yml');
    writeFileSync(f, 'a: 1\n');
    const a = configStamp(f, {});
    expect(configStamp(f, {})).toBe(a);
    expect(configStamp(f, { VAULT_ADDR: 'https://v' })).not.toBe(a);
    writeFileSync(f, 'a: 2\n');
    expect(configStamp(f, {})).not.toBe(a);
    expect(configStamp(join(dir, 'none.yml'), {})).toBe('missing');
  });
});

describe('the lock', () => {
  it('runs one holder at a time and lets a waiter take an answer instead', async () => {
    const path = join(dir, 'one.lock');
    let inside = 0;
    let most = 0;
    let answer: string | undefined;
    const work = (i: number) =>
      withLock(
        path,
        { deadline: Date.now() + 10_000, staleMs: 60_000, poll: () => answer },
        async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((r) => setTimeout(r, 50));
          inside--;
          answer = `from ${i}`;
          return answer;
        },
      );
    const results = await Promise.all([1, 2, 3, 4, 5].map(work));
    expect(most).toBe(1);
    expect(new Set(results).size).toBe(1);
  });

  it('gives up after its deadline, naming the holder', async () => {
    const path = join(dir, 'held.lock');
    // A live holder: this process, with its own start time (a wrong one would be a reused pid).
    writeFileSync(path, `${process.pid} ${startTime(process.pid)} 0 x`);
    await expect(
      withLock(
        path,
        { deadline: Date.now() + 100, staleMs: 60_000, poll: () => undefined },
        async () => 'never',
      ),
    ).rejects.toThrow(`Gave up waiting for another docker-credential-vault (pid ${process.pid})`);
  });
});

it("reports package.json's version", () => {
  expect(VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
});
