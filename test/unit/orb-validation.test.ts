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
];

function run(parameters: Record<string, ParamValue>) {
  return runJob({
    dir: mkdtempSync(join(tmpdir(), 'orb-validate-')),
    steps: [{ orb: 'login', parameters }],
    env: { CIRCLE_OIDC_TOKEN: 'not-a-real-token' },
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
