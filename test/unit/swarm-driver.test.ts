// The Swarm driver's pure parts: labels -> plan, Vault answer -> value, its token's lifetime, its
// log lines. The protocol and Vault itself are in test/e2e/swarm-driver*.test.ts.
import { describe, expect, it } from 'vitest';
import type { AuthMethod, VaultLogin } from '../../src/auth/method.js';
import type { VaultClient } from '../../src/core/vault.js';
import { driverToken } from '../../src/swarm-driver/driver-token.js';
import { planFromLabels } from '../../src/swarm-driver/labels.js';
import { streamLog } from '../../src/swarm-driver/log.js';
import { deliver } from '../../src/swarm-driver/value.js';

const defaults = { engineMount: 'dockerhub', label: 'swarm task web.1.abc' };

describe('planFromLabels', () => {
  it('writes to the engine with the task label by default, reads anything else', () => {
    expect(
      planFromLabels(
        { 'vault.path': 'dockerhub/token/acmebot/read', 'vault.registry': 'https://ghcr.io/' },
        defaults,
      ),
    ).toEqual({
      source: {
        path: 'dockerhub/token/acmebot/read',
        method: 'write',
        body: { label: 'swarm task web.1.abc' },
      },
      delivery: { kind: 'docker-config', registry: 'ghcr.io', fields: {} },
    });
    expect(planFromLabels({ 'vault.path': 'kv/data/a', 'vault.field': 'pw' }, defaults)).toEqual({
      source: { path: 'kv/data/a', method: 'read' },
      delivery: { kind: 'field', field: 'pw' },
    });
  });

  it('takes a method, a body, field names and a wrap TTL', () => {
    const p = planFromLabels(
      {
        'vault.path': 'database/creds/app',
        'vault.method': 'write',
        'vault.body': '{"ttl":"5m"}',
        'vault.wrap': '90s',
      },
      defaults,
    );
    expect(p).toEqual({
      source: { path: 'database/creds/app', method: 'write', body: { ttl: '5m' } },
      delivery: { kind: 'wrapped', ttl: '90s' },
    });
    expect(
      planFromLabels(
        {
          'vault.path': 'harbor/creds/x',
          'vault.registry': 'index.docker.io',
          'vault.username_field': 'user',
          'vault.password_field': 'secret',
        },
        defaults,
      ).delivery,
    ).toEqual({
      kind: 'docker-config',
      registry: 'docker.io',
      fields: { username: 'user', password: 'secret' },
    });
  });

  it('refuses field names without a registry, and bad field names', () => {
    expect(() =>
      planFromLabels(
        { 'vault.path': 'kv/data/a', 'vault.field': 'pw', 'vault.password_field': 'pw' },
        defaults,
      ),
    ).toThrow(/Secret label "vault\.password_field": is only used with vault\.registry/);
    expect(() =>
      planFromLabels({ 'vault.path': 'kv/data/a', 'vault.field': 'a b' }, defaults),
    ).toThrow(/Secret label "vault\.field": must be a field name/);
    expect(() =>
      planFromLabels(
        { 'vault.path': 'kv/data/a', 'vault.field': 'a', 'vault.registry': 'x.io' },
        defaults,
      ),
    ).toThrow(/"vault\.field": and vault\.registry are exclusive/);
  });
});

describe('deliver', () => {
  const kv = { data: { data: { n: 5432, obj: { a: 1 }, s: 'text', empty: '' }, metadata: {} } };

  it('gives a field as text, a number or an object as JSON', () => {
    expect(deliver(kv, { kind: 'field', field: 'n' }, 'p').value.toString()).toBe('5432');
    expect(deliver(kv, { kind: 'field', field: 'obj' }, 'p').value.toString()).toBe('{"a":1}');
    expect(deliver(kv, { kind: 'field', field: 's' }, 'p')).toMatchObject({ doNotReuse: false });
    expect(() => deliver(kv, { kind: 'field', field: 'empty' }, 'p')).toThrow(
      /no non-empty field "empty" \(vault\.field\); fields present: n, obj, s, empty\./,
    );
  });

  it('marks a leased answer DoNotReuse and names the credential fields as labels', () => {
    const leased = { lease_id: 'x/1', lease_duration: 60, data: { username: 'u', token: 't' } };
    const got = deliver(leased, { kind: 'docker-config', registry: 'docker.io', fields: {} }, 'x');
    expect(got).toMatchObject({ doNotReuse: true, leaseId: 'x/1', leaseSeconds: 60 });
    expect(JSON.parse(got.value.toString())).toEqual({
      auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('u:t').toString('base64') } },
    });
    let err: unknown;
    try {
      deliver(
        { data: { username: 'u' } },
        { kind: 'docker-config', registry: 'r.io', fields: {} },
        'x',
      );
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ hint: expect.stringMatching(/Set vault\.password_field/) });
  });

  it('refuses an answer Vault did not wrap', () => {
    expect(() => deliver({ data: { a: 'b' } }, { kind: 'wrapped', ttl: '1m' }, 'kv/a')).toThrow(
      /Vault answered kv\/a without wrapping it/,
    );
  });
});

describe('driverToken', () => {
  const vault = {} as VaultClient;
  function counting(make: (n: number, now: number) => VaultLogin) {
    let n = 0;
    const method: AuthMethod = {
      describe: 'test',
      login: async (_v, now) => make(++n, now),
    };
    return { method, logins: () => n };
  }

  it('reads a borrowed token (a token file) again for every request', async () => {
    const m = counting((n) => ({ token: `t${n}`, revocable: false }));
    const t = driverToken(m.method);
    expect([await t.get(vault, 0), await t.get(vault, 1)]).toEqual(['t1', 't2']);
  });

  it('keeps its own login until half its TTL, then logs in again (never revoking)', async () => {
    const m = counting((n, now) => ({ token: `t${n}`, revocable: true, expiresAt: now + 600_000 }));
    const t = driverToken(m.method);
    expect(await t.get(vault, 0)).toBe('t1');
    expect(await t.get(vault, 299_999)).toBe('t1');
    expect(await t.get(vault, 300_000)).toBe('t2');
    t.forget('t2');
    expect(await t.get(vault, 300_001)).toBe('t3');
  });

  it('shares one login between concurrent requests', async () => {
    const m = counting((n) => ({ token: `t${n}`, revocable: true }));
    const t = driverToken(m.method);
    expect(await Promise.all([t.get(vault, 0), t.get(vault, 0), t.get(vault, 0)])).toEqual([
      't1',
      't1',
      't1',
    ]);
    expect(m.logins()).toBe(1);
  });
});

it('log lines quote values with spaces or quotes and drop empty fields', () => {
  const lines: string[] = [];
  const log = streamLog((l) => lines.push(l));
  log.error('refused', { task: 'web.1', path: undefined, error: 'Secret label "x": bad' });
  log.info('stopped');
  expect(lines).toEqual([
    'error refused task=web.1 error="Secret label \\"x\\": bad"\n',
    'info stopped\n',
  ]);
});
