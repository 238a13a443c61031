// The answer to a `get`, however it was reached: from the cache, from Vault, or shared with the
// process that held the lock while this one waited.
import { debugLog } from '../core/debug-log.js';
import type { CachedCredential } from './cache.js';
import { answer, fail, NAME, notFound } from './protocol.js';
import type { HelperRequest } from './request.js';

export type Outcome =
  | { kind: 'hit'; entry: CachedCredential }
  | { kind: 'not-found' }
  /** `anonymous`: the configuration says to go on without credentials (on_error: anonymous). */
  | { kind: 'failed'; message: string; anonymous: boolean };

export function respond(req: HelperRequest, o: Outcome): number {
  debugLog(req.env, NAME, 'get', {
    registry: req.key,
    answer: o.kind,
    lease: o.kind === 'hit' ? o.entry.leaseId : undefined,
  });
  switch (o.kind) {
    case 'hit':
      answer({ ServerURL: req.serverUrl, Username: o.entry.username, Secret: o.entry.secret });
      return 0;
    case 'not-found':
      return notFound(`no registry "${req.key}" in ${req.configFile}.`);
    case 'failed':
      return o.anonymous
        ? notFound(
            `going on without credentials for ${req.key} (credential_helper.on_error: anonymous): ${o.message}`,
          )
        : fail(o.message);
  }
}
