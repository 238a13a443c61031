// How long the kubelet may reuse the answer, and under which key. A lease dies on its own at its
// TTL and with the Vault token that created it, so the answer lives no longer than either, less a
// margin; a secret without a lease gets the configured default.
import type { Credential } from '../core/credential.js';
import type { ImageEntry } from '../core/image-entry.js';
import type { CacheKeyType, KubeletSettings } from './settings.js';

export interface CachePlan {
  cacheKeyType: CacheKeyType;
  /** Seconds; undefined leaves it to the kubelet's defaultCacheDuration. */
  seconds?: number;
}

export function cachePlan(
  s: KubeletSettings,
  m: ImageEntry,
  cred: Pick<Credential, 'leaseId' | 'expiresAt'>,
  tokenExpiresAt: number | undefined,
  now: number,
): CachePlan {
  // A path-scoped entry covers part of its registry; a per-registry key would hand its credential
  // to images outside that path. And the kubelet looks in its cache for the image, then its
  // registry: a whole-registry answer keyed by Registry would be served, without running the
  // provider, to images under a path another entry scopes. So every answer for such a host is
  // cached per image.
  const cacheKeyType = m.hostHasScopes ? 'Image' : s.cacheKeyType;
  if (!cred.leaseId || !cred.expiresAt) return { cacheKeyType, seconds: s.defaultCacheS };
  const ends = Math.min(Date.parse(cred.expiresAt), tokenExpiresAt ?? Number.POSITIVE_INFINITY);
  return { cacheKeyType, seconds: Math.max(0, Math.floor((ends - now) / 1000) - s.cacheMarginS) };
}
