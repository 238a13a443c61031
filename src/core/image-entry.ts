// Which `registries` entry serves an image: the entry's registry host must be the image's, and an
// entry scoped to a path (`ghcr.io/acme`) covers only the repositories under it. The most specific
// entry wins, as docker and the kubelet pick the longest matching credential.
import type { Entry } from './registry-entries.js';
import { type ImageRef, imageRef, registryKey } from './registry-name.js';

export interface ImageEntry {
  entry: Entry;
  ref: ImageRef;
  /** The entry's path scope ('' when it covers the whole registry). */
  scope: string;
  /** Some entry for the image's registry is scoped to a path (this one or another). */
  hostHasScopes: boolean;
}

export function entryForImage(entries: Entry[], image: string): ImageEntry | undefined {
  const ref = imageRef(image);
  let best: Omit<ImageEntry, 'hostHasScopes'> | undefined;
  let hostHasScopes = false;
  for (const entry of entries) {
    const slash = entry.registry.indexOf('/');
    const host = slash < 0 ? entry.registry : entry.registry.slice(0, slash);
    const scope = slash < 0 ? '' : entry.registry.slice(slash + 1);
    if (registryKey(host) !== ref.registry) continue;
    hostHasScopes ||= scope !== '';
    if (scope && ref.path !== scope && !ref.path.startsWith(`${scope}/`)) continue;
    if (!best || scope.length > best.scope.length) best = { entry, ref, scope };
  }
  return best && { ...best, hostHasScopes };
}
