// The session state between `login` and `logout`: a 0600 JSON file in a 0700 directory owned by
// this user (under XDG_RUNTIME_DIR, else TMPDIR), one file per --session name.
import { lstatSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { VdlError } from '../core/errors.js';
import { isPrivate, privateDir, privateDirPath, writePrivateFile } from '../core/private-dir.js';
import type { CleanupConfig, SessionState, StateStore } from '../core/session.js';
import { UsageError } from './usage.js';

/** What logout needs: no secret but the Vault token (and only one this tool created). */
export interface StateFile {
  version: 1;
  config: CleanupConfig;
  /** DOCKER_CONFIG at login, so logout edits the same config.json. */
  dockerConfig?: string;
  /** The CI job that logged in (its variable and id): another job's logout is refused. */
  job?: { variable: string; id: string };
  state: SessionState;
}

/** Where the state lives; `ownDir` when it is our default directory (checked and kept 0700). */
export interface StateLocation {
  path: string;
  ownDir: boolean;
}

export function stateLocation(
  env: NodeJS.ProcessEnv,
  session: string,
  stateFile?: string,
): StateLocation {
  if (stateFile) return { path: stateFile, ownDir: false };
  if (!/^[A-Za-z0-9_.-]+$/.test(session) || session.startsWith('.'))
    throw new UsageError(
      `--session must be a name of letters, digits, ".", "_" and "-"; got "${session}".`,
    );
  return { path: join(privateDirPath(env), `${session}.json`), ownDir: true };
}

/**
 * The state of a login, when there is one. Trusted only when nobody else could have written it:
 * the file (not a symlink) and, in our default directory, the directory are this user's and not
 * writable by others. A planted state could send logout's VAULT_TOKEN to another Vault.
 */
export function readState({ path, ownDir }: StateLocation): StateFile | undefined {
  const hint = 'Remove it, or pass --state-file with a path in a directory of your own.';
  const dir = dirname(path);
  const dirSt = ownDir ? lstatSync(dir, { throwIfNoEntry: false }) : undefined;
  if (dirSt && (!dirSt.isDirectory() || !isPrivate(dirSt, 0o022)))
    throw new VdlError(
      'config',
      `${dir} is not a directory of this user's that only it may write; not trusting the login state in it.`,
      hint,
    );
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return undefined;
  if (!st.isFile() || !isPrivate(st, 0o022))
    throw new VdlError(
      'config',
      `State file ${path} is not a file of this user's that only it may write; not trusting it.`,
      hint,
    );
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as StateFile;
    if (parsed?.version !== 1) throw new Error('unknown version');
    return parsed;
  } catch (err) {
    throw new VdlError('config', `State file ${path} is unreadable: ${(err as Error).message}.`);
  }
}

/** Written whole each time, to a 0600 temporary file renamed over the old one. */
function writeState({ path, ownDir }: StateLocation, file: StateFile): void {
  const dir = dirname(path);
  if (ownDir) privateDir(dir, 'Pass --state-file with a path in a directory of your own.');
  else mkdirSync(dir, { recursive: true, mode: 0o700 });
  writePrivateFile(path, `${JSON.stringify(file)}\n`);
}

export function removeState(path: string): void {
  rmSync(path, { force: true });
}

/** A StateStore that persists every change, so a crash half-way still leaves what logout needs. */
export function fileStore(
  at: StateLocation,
  base: Omit<StateFile, 'state'>,
  initial: SessionState = {},
): StateStore {
  let current = initial;
  return {
    load: () => current,
    save(patch) {
      current = { ...current, ...patch };
      writeState(at, { ...base, state: current });
    },
  };
}
