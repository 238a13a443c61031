// The pieces of the core's interfaces that GitHub provides: masking, logging, step state.
import * as core from '@actions/core';
import type { CleanupDeps } from '../core/cleanup-run.js';
import { nodeExec } from '../core/exec.js';
import type { Logger, Masker } from '../core/ports.js';
import { systemClock } from '../core/retry.js';
import type { SessionState, StateStore } from '../core/session-state.js';

const KEY = 'session';

export const masker: Masker = { mask: (s) => core.setSecret(s) };

export const logger: Logger = {
  info: (m) => core.info(m),
  warn: (m) => core.warning(m),
  debug: (m) => core.debug(m),
};

/** One JSON state entry; the runner keeps the last value written and hands it to post as STATE_session. */
export function stateStore(): StateStore {
  let current: SessionState | undefined;
  const load = (): SessionState => {
    if (!current) {
      const raw = core.getState(KEY);
      current = raw ? (JSON.parse(raw) as SessionState) : {};
    }
    return current;
  };
  return {
    load,
    save(patch) {
      current = { ...load(), ...patch };
      core.saveState(KEY, JSON.stringify(current));
    },
  };
}

export function baseDeps(): CleanupDeps {
  return { masker, logger, state: stateStore(), exec: nodeExec, clock: systemClock };
}
