import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { ConfigError } from '../../src/core/errors.js';

const base = { url: 'https://vault.example.test', role: 'ci', account: 'bot' };

describe('parseConfig', () => {
  it('applies defaults and builds the engine path', () => {
    const c = parseConfig(base, {}, { label: 'acme/widgets run 1 attempt 1' });
    expect(c.source).toEqual({
      path: 'dockerhub/token/bot/read',
      method: 'write',
      body: { label: 'acme/widgets run 1 attempt 1' },
    });
    expect(c).toMatchObject({
      authMount: 'jwt',
      registry: 'docker.io',
      logout: true,
      revoke: true,
    });
    expect(c).toMatchObject({ timeoutMs: 60_000, retries: 2 });
  });

  it('falls back to the standard VAULT_* variables', () => {
    const c = parseConfig(
      { role: 'ci', account: 'bot' },
      { VAULT_ADDR: 'http://127.0.0.1:8200/', VAULT_NAMESPACE: 'team', VAULT_CACERT: '/ca.pem' },
    );
    expect(c.url).toBe('http://127.0.0.1:8200');
    expect(c.namespace).toBe('team');
    expect(c.authNamespace).toBe('team');
    expect(c.tls.caFile).toBe('/ca.pem');
  });

  it('keeps auth-namespace separate from namespace', () => {
    const c = parseConfig({ ...base, namespace: 'team/secrets', 'auth-namespace': 'team' });
    expect([c.namespace, c.authNamespace]).toEqual(['team/secrets', 'team']);
  });

  it('accepts a CA as PEM or base64 of PEM', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const b64 = Buffer.from(pem).toString('base64');
    expect(parseConfig({ ...base, 'ca-certificate': b64 }).tls.ca).toBe(pem);
    expect(parseConfig({ ...base, 'ca-certificate': pem.trim() }).tls.ca).toContain('BEGIN');
  });

  it('maps Docker Hub aliases to docker.io and keeps other hosts', () => {
    expect(parseConfig({ ...base, registry: 'index.docker.io' }).registry).toBe('docker.io');
    expect(parseConfig({ ...base, registry: 'https://ghcr.io/' }).registry).toBe('ghcr.io');
  });

  // Inputs the orb shares are judged in test/tables/inputs.ts (orb-core-inputs.test.ts).
  const bad: [string, string, string][] = [
    ['logout', 'maybe', 'true or false'],
    ['revoke', 'nope', 'true or false'],
  ];
  it.each(bad)('rejects %s=%j naming the input', (input, value, text) => {
    let err: unknown;
    try {
      parseConfig({ ...base, [input]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).input).toBe(input);
    expect((err as Error).message).toContain(`Input "${input}"`);
    expect((err as Error).message).toContain(text);
  });

  it('requires role, url, and account or secret-path; cert and key together', () => {
    expect(() => parseConfig({ ...base, role: '' })).toThrow(/Input "role"/);
    expect(() => parseConfig({ ...base, url: '' })).toThrow(/Input "url".*VAULT_ADDR/);
    expect(() => parseConfig({ ...base, account: '' })).toThrow(/Input "account"/);
    expect(parseConfig({ ...base, account: '', 'secret-path': 'hub/token/x/ns' }).source.path).toBe(
      'hub/token/x/ns',
    );
    // Both would leave one silently unused.
    expect(() => parseConfig({ ...base, 'secret-path': 'secret/data/x' })).toThrow(
      'Input "secret-path": replaces the account input, which is set too',
    );
    const pem = '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----';
    expect(() => parseConfig({ ...base, 'client-certificate': pem })).toThrow(/client-key/);
  });
});
