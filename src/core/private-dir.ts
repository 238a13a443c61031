// The per-user private directory where entry points keep what must outlive one process (the CLI's
// session state, the credential helper's cache), 0700, never a symlink or another user's. Its name
// in a shared directory is predictable, so another user may take it first: then the next place
// is used instead of stopping. In order: `$XDG_RUNTIME_DIR/vault-docker-login-<uid>`, or for root
// without it `/run/vault-docker-login` (only root may write /run); `$TMPDIR` (else the system
// temporary directory) `/vault-docker-login-<uid>`; `$HOME/.cache/vault-docker-login`.
// node:fs only: the credential helper's hot path reads through here.
import {
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  type Stats,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VdlError } from './errors.js';

export const uid = (): number => process.getuid?.() ?? 0;

/** Root's own place: /run is writable by root alone, so nobody can take the name first. */
export const ROOT_RUN_DIR = '/run/vault-docker-login';

/** Where the private directory may be, best first. */
export function privateDirCandidates(env: NodeJS.ProcessEnv, me = uid()): string[] {
  const name = `vault-docker-login-${me}`;
  const list: string[] = [];
  if (env.XDG_RUNTIME_DIR) list.push(join(env.XDG_RUNTIME_DIR, name));
  else if (me === 0 && lstatSync('/run', { throwIfNoEntry: false })?.isDirectory())
    list.push(ROOT_RUN_DIR);
  list.push(join(env.TMPDIR || tmpdir(), name));
  if (env.HOME) list.push(join(env.HOME, '.cache', 'vault-docker-login'));
  return list;
}

/**
 * The private directory for this user: the first candidate that is missing (it is made there) or
 * is already a directory of ours. When every one is taken, the first, for its error to name.
 */
export function privateDirPath(env: NodeJS.ProcessEnv): string {
  const list = privateDirCandidates(env);
  for (const dir of list) {
    const st = lstatSync(dir, { throwIfNoEntry: false });
    if (!st || (st.isDirectory() && st.uid === uid())) return dir;
  }
  return list[0] as string;
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

/** Why a file in a shared place is not trusted, or undefined when it is safe to read. */
function distrust(st: Stats): string | undefined {
  if (!st.isFile()) return 'is not a regular file';
  if (st.uid !== uid()) return `is owned by uid ${st.uid}, not by this user (uid ${uid()})`;
  if ((st.mode & 0o077) !== 0)
    return `has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}, not 0600`;
  return undefined;
}

/**
 * A file only this user could have written, or undefined when there is none: opened without
 * following a symlink, then checked by what was opened (owner, mode, a regular file), so nothing
 * can be swapped in between. An untrusted file is an error (`what` names it, `hint` says what to do), never read nor replaced.
 */
export function readPrivateFile(path: string, what: string, hint: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP')
      throw new VdlError('config', `${what} ${path} is a symlink; not trusting it.`, hint);
    throw new VdlError('config', `${what} ${path} cannot be read: ${code ?? err}.`, hint);
  }
  try {
    const why = distrust(fstatSync(fd));
    if (why) throw new VdlError('config', `${what} ${path} ${why}; not trusting it.`, hint);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** Replaces `path` whole: a 0600 temporary file renamed over it, so a reader never sees half. */
export function writePrivateFile(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, path);
}
