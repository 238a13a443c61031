// The CLI's login state between login and logout: where it lives, that it is written whole and
// owner-only, and that logout trusts it only when nobody else could have written it (a planted
// state could send logout's VAULT_TOKEN to another Vault).
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileStore, readState, type StateFile, stateLocation } from '../../src/cli/state.js';
import { UsageError } from '../../src/cli/usage.js';
import { VdlError } from '../../src/core/errors.js';
import { uid } from '../../src/core/private-dir.js';

const root = mkdtempSync(join(tmpdir(), 'vdl-state-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A fresh runtime directory, as XDG_RUNTIME_DIR. */
const runtime = () => {
  const d = join(root, `rt${++n}`);
  mkdirSync(d);
  return { XDG_RUNTIME_DIR: d };
};
const BASE: Omit<StateFile, 'state'> = {
  version: 1,
  config: { url: 'http://127.0.0.1:8200' } as StateFile['config'],
};

function refusal(f: () => unknown): VdlError {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(VdlError);
  return err as VdlError;
}

describe('the login state', () => {
  it('lives in the private directory, one file per session name', () => {
    const env = runtime();
    expect(stateLocation(env, 'build')).toEqual({
      path: join(env.XDG_RUNTIME_DIR, `vault-docker-login-${uid()}`, 'build.json'),
      ownDir: true,
    });
    expect(stateLocation(env, 'x', '/run/s.json')).toEqual({ path: '/run/s.json', ownDir: false });
    for (const bad of ['../x', '.hidden', 'a/b', 'a b', ''])
      expect(() => stateLocation(env, bad)).toThrow(UsageError);
  });

  it('is written whole on every change, 0600 in a 0700 directory, and read back', () => {
    const at = stateLocation(runtime(), 'default');
    const store = fileStore(at, BASE);
    expect(readState(at.path)).toBeUndefined();
    store.save({ vaultToken: 's.x' } as never);
    store.save({ loggedIn: true } as never);
    expect(lstatSync(at.path).mode & 0o777).toBe(0o600);
    expect(lstatSync(join(at.path, '..')).mode & 0o777).toBe(0o700);
    expect(readState(at.path)?.state).toEqual({ vaultToken: 's.x', loggedIn: true });
    expect(readFileSync(at.path, 'utf8').endsWith('}\n')).toBe(true);
  });

  it('is not trusted when the file is a symlink or writable by others', () => {
    const at = stateLocation(runtime(), 'default');
    fileStore(at, BASE).save({ vaultToken: 's.x' } as never);
    chmodSync(at.path, 0o666);
    expect(refusal(() => readState(at.path)).message).toMatch(/not trusting it/);

    const planted = join(root, `planted${++n}.json`);
    writeFileSync(planted, JSON.stringify({ ...BASE, state: {} }), { mode: 0o600 });
    const link = { path: join(root, `link${n}.json`), ownDir: false };
    symlinkSync(planted, link.path);
    expect(refusal(() => readState(link.path)).message).toMatch(/not trusting it/);
  });

  it('names a state file it cannot read', () => {
    const at = { path: join(root, `other${++n}.json`), ownDir: false };
    writeFileSync(at.path, '{"version": 2}', { mode: 0o600 });
    expect(refusal(() => readState(at.path)).message).toBe(
      `State file ${at.path} is unreadable: unknown version.`,
    );
  });
});
