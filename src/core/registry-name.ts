// Registry names as each caller spells them -> the one key the configuration uses.
// Docker Hub is `docker.io`; every other registry is its lower-cased host[:port].

export const DOCKER_HUB = 'docker.io';

const HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** host[:port] of a server address: scheme and path dropped, as docker's ConvertToHostname. */
export function hostOf(server: string): string {
  const bare = server.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  return (bare.split('/')[0] ?? '').toLowerCase();
}

/**
 * The configuration key for a server address as a credential helper receives it:
 * `https://index.docker.io/v1/` (the docker CLI), `docker.io` (Nomad), or a bare host[:port].
 */
export function registryKey(server: string): string {
  const host = hostOf(server);
  return HUB_HOSTS.has(host) ? DOCKER_HUB : host;
}

/**
 * The registry an image reference pulls from, by docker's rule: the first path segment is a host
 * when it has a "." or ":" or is `localhost`; otherwise the image is on Docker Hub
 * (`nginx`, `library/nginx`, `docker.io/library/nginx`, `index.docker.io/library/nginx`).
 */
export function registryOfImage(image: string): string {
  const ref = image.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = ref.indexOf('/');
  if (slash < 0) return DOCKER_HUB;
  const first = ref.slice(0, slash);
  if (!/[.:]/.test(first) && first !== 'localhost') return DOCKER_HUB;
  return registryKey(first);
}
