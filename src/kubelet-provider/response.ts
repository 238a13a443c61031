// The CredentialProviderResponse on stdout. The kubelet decodes it strictly (no unknown fields),
// drops it when apiVersion, kind or cacheKeyType is wrong, and matches each `auth` key against the
// image with its keyring: same number of host parts, same port, key path a prefix of the image's,
// and for an image without a host only the Docker Hub key `index.docker.io`.
import type { Credential } from '../core/credential.js';
import type { ImageEntry } from '../core/image-entry.js';
import { DOCKER_HUB } from '../core/registry-name.js';
import { goDuration } from './duration.js';
import type { CacheKeyType } from './settings.js';

export interface ProviderResponse {
  apiVersion: string;
  kind: 'CredentialProviderResponse';
  cacheKeyType: CacheKeyType;
  /** Omitted: the kubelet's defaultCacheDuration applies. "0s": not cached at all. */
  cacheDuration?: string;
  auth: Record<string, { username: string; password: string }>;
}

/**
 * The keys under which the kubelet finds the credential for this image. The image's own spelling
 * of the host always matches; Docker Hub also gets `docker.io` (the kubelet's normalized names) and
 * `index.docker.io` (its rule for `nginx` and `library/nginx`).
 */
export function authKeys(m: ImageEntry): string[] {
  const scope = m.scope ? `/${m.scope}` : '';
  if (m.ref.registry !== DOCKER_HUB) return [`${m.ref.host}${scope}`];
  return [...new Set([...(m.ref.host ? [m.ref.host] : []), DOCKER_HUB, 'index.docker.io'])];
}

export function buildResponse(
  apiVersion: string,
  m: ImageEntry,
  cred: Pick<Credential, 'username' | 'secret'>,
  cacheKeyType: CacheKeyType,
  cacheSeconds: number | undefined,
): ProviderResponse {
  const auth = Object.fromEntries(
    authKeys(m).map((k) => [k, { username: cred.username, password: cred.secret }]),
  );
  return {
    apiVersion,
    kind: 'CredentialProviderResponse',
    cacheKeyType,
    ...(cacheSeconds === undefined ? {} : { cacheDuration: goDuration(cacheSeconds) }),
    auth,
  };
}
