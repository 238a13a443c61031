// AppRole: role_id and secret_id from files (named by their settings when unreadable or empty);
// a wrapped secret_id is unwrapped once, checked against the role's path, and kept for later logins.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type AppRoleSettings, appRole } from '../../src/auth/approle.js';
import { memoryKeeper } from '../../src/auth/method.js';
import { VdlError } from '../../src/core/errors.js';
import { refused, type StubRequest, vaultStub } from '../harness/vault-stub.js';

const dir = mkdtempSync(join(tmpdir(), 'vdl-approle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (text: string) => {
  const f = join(dir, `f${++n}`);
  writeFileSync(f, text, { mode: 0o600 });
  return f;
};

/** Vault's answers: wrapping lookup/unwrap for `wrapped`, and a login that issues `t-<n>`. */
function vault(wrapped: { at: string; secretId?: string } = { at: '' }) {
  let logins = 0;
  return vaultStub((r: StubRequest) => {
    if (r.path === 'sys/wrapping/lookup')
      return { status: 200, body: { data: { creation_path: wrapped.at } } };
    if (r.path === 'sys/wrapping/unwrap')
      return { status: 200, body: { data: { secret_id: wrapped.secretId } } };
    if (r.path.endsWith('/login'))
      return { status: 200, body: { auth: { client_token: `t-${++logins}`, lease_duration: 60 } } };
    return refused(404);
  });
}

const settings = (s: Partial<AppRoleSettings>): AppRoleSettings => ({
  mount: 'approle',
  secretIdFile: file('sid-1\n'),
  wrapped: false,
  roleId: 'rid',
  ...s,
});

describe('AppRole', () => {
  it('logs in with the role_id and the trimmed secret_id; the token expires with its lease', async () => {
    const s = vault();
    const login = await appRole(
      settings({ roleId: undefined, roleIdFile: file(' rid-f \n') }),
      memoryKeeper(),
    ).login(s.vault, 1000);
    expect(login).toEqual({ token: 't-1', revocable: true, expiresAt: 61_000 });
    expect(s.requests.map((r) => [r.path, r.body])).toEqual([
      ['auth/approle/login', { role_id: 'rid-f', secret_id: 'sid-1' }],
    ]);
  });

  it.each([
    ['roleIdFile', 'auth.role_id_file', 'Write the role_id there'],
    ['secretIdFile', 'auth.secret_id_file', 'Deliver the secret_id'],
  ] as const)('names %s as %s when it is missing or empty', async (key, setting, hint) => {
    const base = key === 'roleIdFile' ? { roleId: undefined } : {};
    for (const [path, said] of [
      [join(dir, 'absent'), `Cannot read ${join(dir, 'absent')} (${setting}): ENOENT.`],
      [file(' \n'), `(${setting}) is empty.`],
    ]) {
      const err = await appRole(settings({ ...base, [key]: path }), memoryKeeper())
        .login(vault().vault, 0)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VdlError);
      expect((err as VdlError).message).toContain(said);
      expect((err as VdlError).hint).toContain(hint);
    }
  });

  it('unwraps a wrapped secret_id once and keeps it for the next logins', async () => {
    const s = vault({ at: 'auth/approle/role/pull/secret-id', secretId: 'sid-unwrapped' });
    const method = appRole(
      settings({ wrapped: true, secretIdFile: file('hvs.wrap') }),
      memoryKeeper(),
    );
    await method.login(s.vault, 0);
    await method.login(s.vault, 0);
    expect(s.requests.map((r) => r.path)).toEqual([
      'sys/wrapping/lookup',
      'sys/wrapping/unwrap',
      'auth/approle/login',
      'auth/approle/login',
    ]);
    expect(s.requests.filter((r) => r.path.endsWith('login')).map((r) => r.body)).toEqual([
      { role_id: 'rid', secret_id: 'sid-unwrapped' },
      { role_id: 'rid', secret_id: 'sid-unwrapped' },
    ]);
  });

  it('a new wrapping token in the file is unwrapped again', async () => {
    const s = vault({ at: 'auth/approle/role/pull/secret-id', secretId: 'sid' });
    const keeper = memoryKeeper();
    await appRole(settings({ wrapped: true, secretIdFile: file('hvs.one') }), keeper).login(
      s.vault,
      0,
    );
    await appRole(settings({ wrapped: true, secretIdFile: file('hvs.two') }), keeper).login(
      s.vault,
      0,
    );
    expect(s.requests.filter((r) => r.path === 'sys/wrapping/unwrap')).toHaveLength(2);
  });

  it.each([
    // Another role's secret_id, when the role is named.
    ['auth/approle/role/other/secret-id', { roleName: 'pull' }],
    // A mount name is a literal: "app.ole" must not match "approle".
    ['auth/approle/role/pull/secret-id', { mount: 'app.ole' }],
    ['cubbyhole/response', {}],
  ])('refuses a wrapping token made at %s', async (at, more) => {
    const s = vault({ at, secretId: 'sid' });
    const method = appRole(
      settings({ wrapped: true, secretIdFile: file('hvs.x'), ...more }),
      memoryKeeper(),
    );
    const err = await method.login(s.vault, 0).catch((e: unknown) => e);
    expect((err as VdlError).kind).toBe('wrapping');
    expect(s.requests.map((r) => r.path)).toEqual(['sys/wrapping/lookup']);
  });

  it('refuses an unwrapped answer without a secret_id, and logs in with nothing', async () => {
    const s = vault({ at: 'auth/approle/role/pull/secret-id' });
    const method = appRole(
      settings({ wrapped: true, secretIdFile: file('hvs.x') }),
      memoryKeeper(),
    );
    const err = await method.login(s.vault, 0).catch((e: unknown) => e);
    expect((err as VdlError).message).toBe('The unwrapped answer has no secret_id.');
    expect(s.requests.some((r) => r.path.endsWith('login'))).toBe(false);
  });
});
