// Input validation of the orb's login command, run from the packed orb: every rejection names
// the parameter and the accepted form, before any network call (the URL points nowhere).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  expandCommand,
  loadPackedOrb,
  type ParamValue,
  runJob,
} from '../harness/circleci-runner.js';

const GOOD = {
  url: 'http://127.0.0.1:9',
  role: 'build',
  account: 'acmebot',
  registry: '127.0.0.1:5000',
  timeout: 5,
  retries: 0,
};

const BAD: [string, ParamValue][] = [
  ['url', 'ftp://vault.example.com'],
  ['url', 'vault.example.com:8200'],
  ['url', 'https://vault example.com'],
  ['url', 'https://user:pass@vault.example.com'],
  ['url', 'https://vault.example.com/?x=1'],
  ['role', '../root'],
  ['role', 'team/role'],
  ['role', 'my role'],
  ['role', 'role?x=1'],
  ['role', 'role#frag'],
  ['role', '/role'],
  ['role', 'ro\tle'],
  ['auth_mount', 'jwt/../token'],
  ['auth_mount', '/circleci'],
  ['auth_mount', 'circleci/'],
  ['engine_mount', 'a//b'],
  ['engine_mount', 'docker hub'],
  ['account', 'acme\u0007bot'],
  ['account', 'a/../b'],
  ['secret_path', '/secret/data/x'],
  ['secret_path', 'secret/data/x?version=1'],
  ['namespace', 'team a'],
  ['auth_namespace', '../admin'],
  ['label', 'x'.repeat(101)],
  ['registry', 'registry example.com'],
  ['timeout', 0],
  ['retries', 11],
  ['secret_method', 'delete'],
  ['secret_method', 'GET'],
  ['username_field', 'data.username'],
  ['password_field', 'pass word'],
  ['secret_body', '{"label": '],
  ['secret_body', '["not", "an", "object"]'],
  ['registries', 'not json'],
  ['registries', '[]'],
  ['registries', '{"registry": "a", "secret_path": "b"}'],
  ['registries', '["127.0.0.1:5000"]'],
  ['registries', '[{"registry": "127.0.0.1:5000"}]'],
  ['registries', '[{"registry": "r", "secret_path": "secret/data/x", "password": "p"}]'],
  ['registries', '[{"registry": 5000, "secret_path": "secret/data/x"}]'],
  ['registries', '[{"registry": "a\tb", "secret_path": "secret/data/x"}]'],
  ['registries', '[{"registry": "r", "secret_path": "secret/data/x", "body": "{}"}]'],
];

/** `registries` entries that parse but break a per-entry rule, named `registries[i].<key>`. */
const BAD_ENTRIES: [string, object[]][] = [
  ['registries[0].secret_path', [{ registry: 'r', secret_path: '/secret/data/x' }]],
  ['registries[1].secret_path', [{ secret_path: 'a/b' }, { registry: 'r', secret_path: 'a/../b' }]],
  ['registries[0].registry', [{ registry: 'bad host', secret_path: 'a/b' }]],
  ['registries[0].method', [{ registry: 'r', secret_path: 'a/b', method: 'list' }]],
  ['registries[0].username_field', [{ secret_path: 'a/b', username_field: 'a.b' }]],
  ['registries[0].body', [{ secret_path: 'a/b', body: { x: 1 } }]],
  [
    'registries[1].registry',
    [
      { registry: 'r', secret_path: 'a/b' },
      { registry: 'r', secret_path: 'c/d' },
    ],
  ],
];

function run(parameters: Record<string, ParamValue>, hide?: string[]) {
  return runJob({
    dir: mkdtempSync(join(tmpdir(), 'orb-validate-')),
    steps: [{ orb: 'login', parameters }],
    env: { CIRCLE_OIDC_TOKEN: 'not-a-real-token' },
    hide,
  });
}

describe('orb login input validation', () => {
  it.concurrent.each(BAD)(
    'rejects %s = %j, naming it and the accepted form',
    async (name, value) => {
      const r = await run({ ...GOOD, [name]: value });
      expect(r.success).toBe(false);
      expect(r.output).toContain(`parameter '${name}' is invalid`);
      expect(r.output).toContain('Accepted:');
      expect(r.output).not.toContain('not-a-real-token');
      expect(r.output).not.toMatch(/no answer from|retrying/);
    },
  );

  it.concurrent.each(BAD_ENTRIES)(
    'rejects a registries entry, naming %s',
    async (name, entries) => {
      const { account: _, registry: __, ...rest } = GOOD;
      const r = await run({ ...rest, registries: JSON.stringify(entries) });
      expect(r.success).toBe(false);
      expect(r.output).toContain(`parameter '${name}' is invalid`);
      expect(r.output).toContain('Accepted:');
      expect(r.output).not.toMatch(/no answer from|retrying/);
    },
  );

  it.concurrent.each(BAD.filter(([name]) => ['registries', 'secret_body'].includes(name)))(
    'rejects %s = %j the same way with neither jq nor python3 on PATH',
    async (name, value) => {
      const { account: _, registry: __, ...rest } = GOOD;
      const params = name === 'registries' ? rest : { ...GOOD, secret_method: 'write' };
      const r = await run({ ...params, [name]: value }, ['jq', 'python3']);
      expect(r.success).toBe(false);
      expect(r.output).toContain(`parameter '${name}' is invalid`);
      expect(r.output).toContain('Accepted:');
    },
  );

  it('refuses registries together with the single-registry parameters, naming them', async () => {
    const r = await run({ ...GOOD, registries: '[{"secret_path": "a/b"}]' });
    expect(r.output).toContain(
      "parameter 'registries' is invalid: it replaces 'registry' 'account'",
    );
  });

  it('refuses a body with a read, and a client certificate without its key', async () => {
    const body = await run({ ...GOOD, secret_path: 'kv/data/x', secret_body: '{}' });
    expect(body.output).toContain(
      "parameter 'secret_body' is invalid: a body is only sent with method write",
    );
    const half = await run({ ...GOOD, client_key: 'x' });
    expect(half.output).toContain("parameters 'client_certificate' and 'client_key' go together");
    const notPem = await run({ ...GOOD, client_certificate: 'not a certificate', client_key: 'x' });
    expect(notPem.output).toContain("parameter 'client_certificate' is invalid");
  });

  it('requires an account unless secret_path is set', async () => {
    const r = await run({ ...GOOD, account: '' });
    expect(r.output).toContain("parameter 'account' is empty");
  });

  it('requires a Vault address from url or VAULT_ADDR', async () => {
    const r = await run({ ...GOOD, url: '' });
    expect(r.output).toContain("parameter 'url' is empty and VAULT_ADDR is not set");
  });

  it('rejects a ca_certificate that is neither PEM nor base64 of PEM', async () => {
    const r = await run({ ...GOOD, ca_certificate: 'bm90IGEgY2VydA==' });
    expect(r.output).toContain("parameter 'ca_certificate' is invalid");
  });

  it('refuses a scope outside the enum at config compile time, like CircleCI', () => {
    expect(() => expandCommand(loadPackedOrb(), 'login', { role: 'r', scope: 'owner' })).toThrow(
      /scope must be one of read,write,admin,public_read/,
    );
    expect(() => expandCommand(loadPackedOrb(), 'login', {})).toThrow(/role is missing/);
  });
});
