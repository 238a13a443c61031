// A crash-looping task must not pile up leases: each restart is a new task asking for a fresh
// value, and with the Docker Hub engine each lease is a personal access token. A task's name is
// `<service>.<slot>.<task id>` (`<service>.<node id>.<task id>` for a global service), so when a
// new task of the same slot gets a leased value, the lease of the task it replaced is revoked:
// live leases stay at most one per slot, plus the one being replaced.
import type { SecretRequest } from './protocol.js';

export interface SlotLeases {
  /** Records `leaseId` for the request's slot; the lease it replaces, if another task held it. */
  replace(req: SecretRequest, leaseId: string): string | undefined;
}

/** The slot a task fills, per secret; undefined when the request does not say (no task name). */
function slotOf(req: SecretRequest): string | undefined {
  const parts = (req.TaskName ?? '').split('.');
  if (parts.length < 3 || !req.ServiceID || !req.TaskID) return undefined;
  return JSON.stringify([req.ServiceID, parts.slice(0, -1).join('.'), req.SecretName ?? '']);
}

export function slotLeases(): SlotLeases {
  const held = new Map<string, { task: string; leaseId: string }>();
  return {
    replace(req, leaseId) {
      const slot = slotOf(req);
      if (!slot) return undefined;
      const before = held.get(slot);
      held.set(slot, { task: req.TaskID as string, leaseId });
      // The same task asking again (the manager retrying) keeps what it was given.
      return before && before.task !== req.TaskID ? before.leaseId : undefined;
    },
  };
}
