// The per-user private directory where entry points keep what must outlive one process (the CLI's
// session state, the credential helper's cache): `$XDG_RUNTIME_DIR` (else `$TMPDIR`, else the
// system temporary directory) / vault-docker-login-<uid>, 0700, never a symlink or another user's.
// node:fs only: the credential helper's hot path reads through here.
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  renameSync,
  rmSync,
  type Stats,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VdlError } from './errors.js';

export const uid = (): number => process.getuid?.() ?? 0;

/** The default private directory for this user. */
export function privateDirPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_RUNTIME_DIR || env.TMPDIR || tmpdir();
  return join(base, `vault-docker-login-${uid()}`);
}

/** A directory or file this user alone may touch: owned by us, no group or other bits. */
export function isPrivate(st: Stats, mode = 0o077): boolean {
  return st.uid === uid() && (st.mode & mode) === 0;
}

/**
 * Creates `dir` 0700 when missing; refuses one that is a symlink or someone else's (an attacker
 * who made it first could read or plant what we keep there). `hint` says what to do instead.
 */
export function privateDir(dir: string, hint: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== uid())
    throw new VdlError(
      'config',
      `${dir} is not a directory owned by this user; not trusting it.`,
      hint,
    );
  if ((st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
  return dir;
}

/** Replaces `path` whole: a 0600 temporary file renamed over it, so a reader never sees half. */
export function writePrivateFile(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, path);
}
