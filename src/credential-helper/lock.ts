// One process at a time mints for a configuration: a lock file created with O_EXCL. The others
// poll (the cache, mostly: the holder's answer is what they wait for) until it is gone. A lock
// whose holder died (its pid and that pid's start time, so a reused pid does not count), or that
// is older than any holder may live, is broken.
import {
  closeSync,
  existsSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { VdlError } from '../core/errors.js';

/** When process `pid` started (clock ticks since boot), or undefined where /proc cannot tell. */
export function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The name in parentheses may hold spaces; field 22, the start time, is the 20th after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Whether the lock's holder still runs: its pid is alive and, where /proc tells, started when the
 * lock says. A pid reused by another process, or one seen from another PID namespace, is not it.
 */
function alive(pid: number, started: string | undefined): boolean {
  if (started && started !== '-' && existsSync('/proc/self/stat'))
    return startTime(pid) === started;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes `path` when its holder is gone or it is older than `staleMs`. It is moved aside first
 * and put back if what was moved is not what was judged stale (a new holder's lock).
 */
function breakIfStale(path: string, staleMs: number): void {
  let text: string;
  let mtime: number;
  try {
    mtime = statSync(path).mtimeMs;
    text = readFileSync(path, 'utf8');
  } catch {
    return;
  }
  const [pidText, started] = text.split(' ');
  const pid = Number(pidText);
  const dead = Number.isInteger(pid) && pid > 0 && !alive(pid, started);
  if (!dead && Date.now() - mtime < staleMs) return;
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch {
    return;
  }
  try {
    if (readFileSync(aside, 'utf8') !== text) linkSync(aside, path);
  } catch {
    // Someone took the lock meanwhile: theirs stands.
  } finally {
    rmSync(aside, { force: true });
  }
}

/** Takes the lock, or returns undefined when another process holds it. */
function tryLock(path: string, staleMs: number): (() => void) | undefined {
  const mine = `${process.pid} ${startTime(process.pid) ?? '-'} ${Date.now()} ${Math.random()}`;
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    breakIfStale(path, staleMs);
    return undefined;
  }
  try {
    writeSync(fd, mine);
  } finally {
    closeSync(fd);
  }
  return () => {
    try {
      if (readFileSync(path, 'utf8') === mine) rmSync(path, { force: true });
    } catch {
      // Already broken as stale: nothing of ours to remove.
    }
  };
}

export interface LockOptions<R> {
  /** Epoch ms after which waiting gives up. */
  deadline: number;
  /** A lock older than this is a holder that hung. */
  staleMs: number;
  /** Checked before each attempt: a value ends the wait without taking the lock. */
  poll: () => R | undefined;
}

/** Runs `body` holding the lock, unless `poll` answers first. */
export async function withLock<R>(
  path: string,
  opts: LockOptions<R>,
  body: () => Promise<R>,
): Promise<R> {
  for (;;) {
    const early = opts.poll();
    if (early !== undefined) return early;
    const release = tryLock(path, opts.staleMs);
    if (release) {
      try {
        return await body();
      } finally {
        release();
      }
    }
    if (Date.now() > opts.deadline) {
      const holder = (() => {
        try {
          return readFileSync(path, 'utf8').split(' ')[0];
        } catch {
          return '?';
        }
      })();
      throw new VdlError(
        'timeout',
        `Gave up waiting for another docker-credential-vault (pid ${holder}) that holds ${path}.`,
        'If that process hangs, stop it; a lock whose process is gone is removed on its own.',
      );
    }
    await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
  }
}
