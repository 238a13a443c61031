// A Keeper on disk, for entry points that run as a new process each time (the kubelet runs its
// credential provider once per pull): a 0600 JSON file in a private 0700 directory. What it reads
// must be ours alone (core/private-dir.ts): a directory someone else made first, or a file planted
// or opened to others, is reported and never used. A lock directory serialises the logins that
// unwrap, so two pulls started together cannot both try the single-use wrapping token and report
// the loser as an interception.
import { lstatSync, mkdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { VdlError } from '../core/errors.js';
import { isPrivate, privateDir, readPrivateFile, writePrivateFile } from '../core/private-dir.js';
import type { Keeper } from './method.js';

const FILE = 'kept.json';
const LOCK = 'login.lock';
const HINT =
  'Set kubelet.state_dir to a directory this user (root, for the kubelet) owns alone, or remove the impostor (revoke what a kept secret_id allows first).';

function ensureDir(dir: string): void {
  try {
    privateDir(dir, HINT);
  } catch (err) {
    if (err instanceof VdlError) throw err;
    throw new VdlError(
      'config',
      `Cannot create the state directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`,
      'Set kubelet.state_dir to a directory this user (root, for the kubelet) may write.',
    );
  }
}

function readKept(dir: string): Record<string, string> {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  if (!st) return {};
  if (!st.isDirectory() || !isPrivate(st, 0o022))
    throw new VdlError(
      'config',
      `The state directory ${dir} is not a directory this user alone may write; not trusting it.`,
      HINT,
    );
  const text = readPrivateFile(join(dir, FILE), 'The kept file', HINT);
  if (text === undefined) return {};
  try {
    const doc = JSON.parse(text) as unknown;
    return doc && typeof doc === 'object' ? (doc as Record<string, string>) : {};
  } catch {
    throw new VdlError('config', `The kept file ${join(dir, FILE)} is not JSON.`, HINT);
  }
}

export function fileKeeper(dir: string): Keeper {
  return {
    get: (key) => {
      const v = readKept(dir)[key];
      return typeof v === 'string' ? v : undefined;
    },
    set: (key, value) => {
      ensureDir(dir);
      writePrivateFile(join(dir, FILE), JSON.stringify({ ...readKept(dir), [key]: value }));
    },
  };
}

/** Gone already is fine: a stale lock may be taken over by two waiters at once. */
function removeLock(lock: string): void {
  try {
    rmdirSync(lock);
  } catch {
    // already removed
  }
}

/**
 * Runs `fn` holding the directory's lock (mkdir is atomic). A lock older than `staleMs` belongs to
 * a process that was killed (the kubelet kills a provider after a minute) and is taken over.
 */
export async function withDirLock<T>(
  dir: string,
  deadline: number,
  fn: () => Promise<T>,
  staleMs = 70_000,
): Promise<T> {
  ensureDir(dir);
  const lock = join(dir, LOCK);
  for (;;) {
    try {
      mkdirSync(lock, { mode: 0o700 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > staleMs) removeLock(lock);
      else if (Date.now() > deadline)
        throw new VdlError(
          'timeout',
          `Another login held ${lock} until the time limit.`,
          'If no provider is running, remove that directory.',
        );
      else await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await fn();
  } finally {
    removeLock(lock);
  }
}
