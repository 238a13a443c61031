// The auth methods' Keeper over the cache: what must outlive this process (an unwrapped AppRole
// secret_id; its wrapping token works once) is written the moment it exists, before a later step
// can fail and lose it.
import type { Keeper } from '../auth/method.js';
import type { CacheDoc } from './cache.js';

export function cacheKeeper(doc: CacheDoc, save: () => void): Keeper {
  return {
    get: (key) => doc.kept[key],
    set(key, value) {
      doc.kept[key] = value;
      save();
    },
  };
}
