// Generic sources and `registries` in parseConfig / loadConfig: defaults, both key spellings, errors.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { secretCandidates, toCredential } from '../../src/core/credential.js';
import { loadConfig } from '../../src/core/load-config.js';

const base = { url: 'https://vault.example.test', role: 'ci' };

describe('generic sources', () => {
  it('reads non-engine paths and writes engine paths by default', () => {
    const kv = parseConfig({ ...base, 'secret-path': 'secret/data/ci/registry' });
    expect(kv.source).toEqual({ path: 'secret/data/ci/registry', method: 'read' });
    const engine = parseConfig(
      { ...base, 'secret-path': 'dockerhub/token/u/ns' },
      {},
      { label: 'L' },
    );
    expect(engine.source).toEqual({
      path: 'dockerhub/token/u/ns',
      method: 'write',
      body: { label: 'L' },
    });
    const other = parseConfig({
      ...base,
      'secret-path': 'quay/creds/ci',
      'secret-method': 'write',
    });
    expect(other.source.body).toEqual({});
    const body = parseConfig({
      ...base,
      'secret-path': 'x/y',
      'secret-method': 'write',
      'secret-body': '{"ttl":"1h"}',
    });
    expect(body.source.body).toEqual({ ttl: '1h' });
  });

  it.each([
    [{ 'secret-method': 'get' }, 'Input "secret-method": must be read or write; got "get".'],
    [{ 'secret-body': '{}' }, 'Input "secret-body": is only sent with a write'],
    [
      { 'secret-method': 'write', 'secret-body': '[1]' },
      'Input "secret-body": must be a JSON object',
    ],
    [
      { 'secret-method': 'write', 'secret-body': '{' },
      'Input "secret-body": must be a JSON object such as {"ttl": "1h"}; it is not JSON.',
    ],
    [{ 'password-field': 'a b' }, 'Input "password-field": must be a field name'],
  ])('rejects %o', (extra, message) => {
    expect(() => parseConfig({ ...base, 'secret-path': 'secret/data/x', ...extra })).toThrow(
      message,
    );
  });

  it('detects fields in order, honours explicit names, and never shows values', () => {
    const answer = {
      data: { data: { login: 'u', secret: 's3', access_token: 'a4' }, metadata: {} },
    };
    expect(toCredential(answer, 0, { username: 'login' }).secret).toBe('s3');
    expect(toCredential(answer, 0, { username: 'login', password: 'access_token' }).secret).toBe(
      'a4',
    );
    expect(secretCandidates(answer, { password: 'login' })).toEqual(['u', 's3', 'a4']);
    expect(() => toCredential(answer, 0)).toThrow(
      'has no non-empty text field "username" for the username; fields present: login, secret, access_token.',
    );
    expect(() => toCredential({ data: { username: 'u', pw: 'x9x9x9' } }, 0)).toThrow(
      /no token, password, secret, access_token field; fields present: username, pw\.$/,
    );
    expect(() => toCredential({ data: { username: 'u', pw: 'x9x9x9' } }, 0)).not.toThrow(/x9x9x9/);
  });
});

describe('registries', () => {
  it('parses a YAML list with both key spellings; the first entry feeds the single outputs', async () => {
    const cfg = await loadConfig({
      ...base,
      registries: [
        '- registry: ghcr.io',
        '  secret-path: secret/data/ghcr',
        '  password-field: pat',
        '- secret_path: dockerhub/token/bot/write',
        '  body: {label: mine}',
      ].join('\n'),
    });
    expect(cfg.entries).toEqual([
      {
        at: 'registries[0]',
        registry: 'ghcr.io',
        source: { path: 'secret/data/ghcr', method: 'read' },
        fields: { username: undefined, password: 'pat' },
      },
      {
        at: 'registries[1]',
        registry: 'docker.io',
        source: { path: 'dockerhub/token/bot/write', method: 'write', body: { label: 'mine' } },
        fields: { username: undefined, password: undefined },
      },
    ]);
    expect([cfg.registry, cfg.source.path]).toEqual(['ghcr.io', 'secret/data/ghcr']);
  });

  it('accepts JSON as well', async () => {
    const cfg = await loadConfig({ ...base, registries: '[{"secret_path": "secret/data/a"}]' });
    expect(cfg.entries.map((e) => e.registry)).toEqual(['docker.io']);
  });

  it.each([
    ['{}', 'Input "registries": must be a list'],
    ['[]', 'Input "registries": must be a list'],
    ['- registry: ghcr.io', 'Input "registries[0].secret_path": is required'],
    ['- secret_path: a/b\n  password: x', 'Input "registries[0].password": is not a known key'],
    ['- secret_path: a/b\n  registry: 5000', 'Input "registries[0].registry": must be a string.'],
    [
      '- secret_path: a/b\n  method: read\n  body: {}',
      'Input "registries[0].body": is only sent with a write',
    ],
    ['- secret_path: a/../b', 'Input "registries[0].secret_path": must not contain "." or ".."'],
    [
      '- {secret_path: a/b}\n- {secret_path: c/d, registry: index.docker.io}',
      '"registries[1].registry": "docker.io" appears twice',
    ],
    ['- [', 'Input "registries": is not valid YAML (line 1'],
  ])('rejects %j', async (text, message) => {
    await expect(loadConfig({ ...base, registries: text })).rejects.toThrow(message);
  });

  it('refuses single-registry inputs next to registries', async () => {
    await expect(
      loadConfig({
        ...base,
        account: 'bot',
        'secret-path': 'x/y',
        registries: '- secret_path: a/b',
      }),
    ).rejects.toThrow('Input "registries": replaces account, secret-path, which are set too');
  });
});
