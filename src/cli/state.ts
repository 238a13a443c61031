// The session state between `login` and `logout`: a 0600 JSON file in this user's private 0700
// directory (core/private-dir.ts), one file per --session name. Read only when this user wrote it.
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { VdlError } from '../core/errors.js';
import {
  privateDir,
  privateDirPath,
  readPrivateFile,
  writePrivateFile,
} from '../core/private-dir.js';
import type { CleanupConfig, SessionState, StateStore } from '../core/session-state.js';
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
 * The state, when there is one only this user could have written: a planted file would send the
 * VAULT_TOKEN of whoever runs logout to the Vault address it names.
 */
export function readState(path: string): StateFile | undefined {
  const text = readPrivateFile(
    path,
    'State file',
    "It was not written by this user's login: remove it, or pass --state-file with a path in a directory of your own.",
  );
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as StateFile;
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
