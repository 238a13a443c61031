// A Keeper on disk, for entry points that run as a new process each time (the kubelet runs its
// credential provider once per pull): a 0600 JSON file in a 0700 directory. A lock directory
// serialises the logins that unwrap, so two pulls started together cannot both try the
// single-use wrapping token and report the loser as an interception.
import { mkdirSync, readFileSync, renameSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VdlError } from '../core/errors.js';
import type { Keeper } from './method.js';

const FILE = 'kept.json';
const LOCK = 'login.lock';

function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new VdlError(
      'config',
      `Cannot create the state directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`,
      'Set kubelet.state_dir to a directory this user (root, for the kubelet) may write.',
    );
  }
}

function readKept(dir: string): Record<string, string> {
  try {
    const doc = JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as unknown;
    return doc && typeof doc === 'object' ? (doc as Record<string, string>) : {};
  } catch {
    return {};
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
      const all = { ...readKept(dir), [key]: value };
      const tmp = join(dir, `${FILE}.${process.pid}`);
      writeFileSync(tmp, JSON.stringify(all), { mode: 0o600 });
      renameSync(tmp, join(dir, FILE));
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
 * What a service manager sends when it stops or restarts the kubelet: systemd signals the kubelet
 * and every process it started, a provider in the middle of its login included.
 */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/**
 * Runs `fn` holding the directory's lock (mkdir is atomic). Stopped by a signal, the holder removes
 * the lock before it dies: the restarted kubelet's next run must not wait for it. A lock older than
 * `staleMs` belongs to a process that was killed outright (the kubelet SIGKILLs a provider after a
 * minute) and is taken over.
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
  const onStop = (signal: NodeJS.Signals) => {
    removeLock(lock);
    for (const sig of STOP_SIGNALS) process.off(sig, onStop);
    // Dies of the signal, as it would have without this handler.
    process.kill(process.pid, signal);
  };
  for (const sig of STOP_SIGNALS) process.on(sig, onStop);
  try {
    return await fn();
  } finally {
    for (const sig of STOP_SIGNALS) process.off(sig, onStop);
    removeLock(lock);
  }
}
