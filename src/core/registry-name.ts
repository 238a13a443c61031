// Registry names as each caller spells them -> the one key the configuration uses.
// Docker Hub is `docker.io`; every other registry is its lower-cased host[:port].

export const DOCKER_HUB = 'docker.io';
/** The key `docker login` writes for Docker Hub in config.json's `auths`. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

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

/** An image reference taken apart: where it is pulled from and which repository. */
export interface ImageRef {
  /** The registry host as the image spells it (`127.0.0.1:5000`, `docker.io`); '' when it names none (`nginx`). */
  host: string;
  /** The configuration key of that registry (lower case; Docker Hub in every spelling is `docker.io`). */
  registry: string;
  /** The repository without tag or digest; Docker Hub's official images get `library/`. */
  path: string;
}

/**
 * Docker's rule: the first path segment is a host when it has a "." or ":" or is `localhost`;
 * otherwise the image is on Docker Hub (`nginx`, `library/nginx`, `docker.io/library/nginx`,
 * `index.docker.io/library/nginx`).
 */
export function imageRef(image: string): ImageRef {
  const ref = (
    image
      .trim()
      .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
      .split('@')[0] ?? ''
  ).trim();
  const slash = ref.indexOf('/');
  const first = slash < 0 ? '' : ref.slice(0, slash);
  const host = first && (/[.:]/.test(first) || first === 'localhost') ? first : '';
  const registry = host ? registryKey(host) : DOCKER_HUB;
  // The tag is whatever follows the last ":" after the last "/" (the host, with its port, is gone).
  const repo = (host ? ref.slice(slash + 1) : ref).replace(/:[^/:]*$/, '');
  const path = registry === DOCKER_HUB && !repo.includes('/') ? `library/${repo}` : repo;
  return { host, registry, path };
}

/** The registry an image reference pulls from (see imageRef). */
export function registryOfImage(image: string): string {
  return imageRef(image).registry;
}
