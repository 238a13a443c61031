// The one Keeper of the host entry points (credential helper, kubelet provider, Swarm driver):
// what an auth method must keep across processes, restarts and reboots (an unwrapped AppRole
// secret_id: its wrapping token works once). One 0600 file per key in a private 0700 directory,
// auth.state_dir, by default /var/lib/vault-docker-login for root: several helpers' configuration
// files, `sudo docker`, a restarted driver and every kubelet run find what another unwrapped.
// What it reads must be ours alone (core/private-dir.ts): a directory someone else made first, or
// a file planted or opened to others, is reported and never used.
import { createHash } from 'node:crypto';
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { VdlError } from '../core/errors.js';
import {
  isPrivate,
  privateDir,
  readPrivateFile,
  uid,
  writePrivateFile,
} from '../core/private-dir.js';
import type { Keeper } from './method.js';

/** Root's: survives a reboot, so a rebooted host logs in again with what it unwrapped. */
export const ROOT_STATE_DIR = '/var/lib/vault-docker-login';

/** auth.state_dir when the file does not set it: root's, else the user's XDG state directory. */
export function defaultStateDir(env: NodeJS.ProcessEnv, me = uid()): string {
  if (me === 0) return ROOT_STATE_DIR;
  const base = env.XDG_STATE_HOME || join(env.HOME || '/', '.local', 'state');
  return join(base, 'vault-docker-login');
}

const HINT =
  'Set auth.state_dir to a directory this user (root, for the host entry points) owns alone, or remove the impostor (revoke what a kept secret_id allows first).';

/** One file per key, named by its hash: writers of different keys never touch each other's. */
const fileOf = (dir: string, key: string) =>
  join(dir, `kept-${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);

function read(dir: string, key: string): string | undefined {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  if (!st) return undefined;
  if (!st.isDirectory() || !isPrivate(st, 0o022))
    throw new VdlError(
      'config',
      `The state directory ${dir} (auth.state_dir) is not a directory this user alone may write; not trusting it.`,
      HINT,
    );
  const path = fileOf(dir, key);
  const text = readPrivateFile(path, 'The kept file', HINT);
  if (text === undefined) return undefined;
  try {
    const doc = JSON.parse(text) as { key?: unknown; value?: unknown };
    return doc.key === key && typeof doc.value === 'string' ? doc.value : undefined;
  } catch {
    throw new VdlError('config', `The kept file ${path} is not JSON.`, HINT);
  }
}

export function fileKeeper(dir: string): Keeper {
  return {
    get: (key) => read(dir, key),
    set: (key, value) => {
      try {
        privateDir(dir, HINT);
      } catch (err) {
        if (err instanceof VdlError) throw err;
        throw new VdlError(
          'config',
          `Cannot create the state directory ${dir} (auth.state_dir): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`,
          HINT,
        );
      }
      writePrivateFile(fileOf(dir, key), JSON.stringify({ key, value }));
    },
  };
}
