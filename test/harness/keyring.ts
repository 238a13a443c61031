// The kubelet's keyring (pkg/credentialprovider/keyring.go), rewritten from its behaviour: how the
// `auth` keys of a provider's answer are matched against the image being pulled.
//  - Add: a key without a scheme is read as https://<key>; a path starting /v1/ or /v2/ counts as
//    none; the index is reverse-sorted so longer keys come first.
//  - URLsMatchStr(key, image): the same number of host parts, each matched as a glob
//    (filepath.Match: *, ?, [...]), the same port, and the key's path a prefix of the image's.
//  - Nothing matched and the image is on Docker Hub by name (no host, or docker.io/index.docker.io):
//    the entry under `index.docker.io`.

export interface AuthConfig {
  username: string;
  password: string;
}

interface Parsed {
  host: string;
  hostParts: string[];
  port: string;
  path: string;
}

/**
 * Go's url.Parse("https://" + s) as far as the keyring uses it: the host as written (not
 * lower-cased), a port that must be digits, the path with its leading "/"; net.SplitHostPort then
 * splits host and port.
 */
export function parseSchemeless(s: string): Parsed | undefined {
  const slash = s.indexOf('/');
  const hostport = slash < 0 ? s : s.slice(0, slash);
  const path = slash < 0 ? '' : s.slice(slash);
  const colon = hostport.lastIndexOf(':');
  const host = colon < 0 ? hostport : hostport.slice(0, colon);
  const port = colon < 0 ? '' : hostport.slice(colon + 1);
  if (!/^\d*$/.test(port) || host.includes(':')) return undefined;
  return { host: hostport, hostParts: host.split('.'), port, path };
}

/** Go's filepath.Match for one host part (no "/" can occur in it). */
function globMatch(pattern: string, name: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) return false; // ErrBadPattern: no match
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = `!${cls.slice(1)}`;
      re += cls.startsWith('!') ? `[^${cls.slice(1)}]` : `[${cls}]`;
      i = end;
    } else if (c === '\\') {
      re += (pattern[i + 1] ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i++;
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`${re}$`).test(name);
}

export function urlsMatchStr(glob: string, target: string): boolean {
  const g = parseSchemeless(glob);
  const t = parseSchemeless(target);
  if (!g || !t) return false;
  if (g.port !== t.port) return false;
  if (g.hostParts.length !== t.hostParts.length) return false;
  if (!t.path.startsWith(g.path)) return false;
  return g.hostParts.every((part, i) => globMatch(part, t.hostParts[i] ?? ''));
}

export function isDefaultRegistryMatch(image: string): boolean {
  const [first, ...rest] = image.split('/');
  if (!first) return false;
  if (rest.length === 0) return true;
  if (first === 'docker.io' || first === 'index.docker.io') return true;
  return !/[.:]/.test(first);
}

/** The key BasicDockerKeyring.Add files an `auth` entry under (undefined: it logs and skips it). */
function keyringKey(loc: string): string | undefined {
  const parsed = parseSchemeless(loc.replace(/^https?:\/\//, ''));
  if (!parsed) return undefined;
  let path = parsed.path;
  if (path.startsWith('/v2/') || path.startsWith('/v1/')) path = path.slice(3);
  return path && path !== '/' ? `${parsed.host}${path}` : parsed.host;
}

/** Every credential the keyring returns for `image`, most specific key first. */
export function keyringLookup(auth: Record<string, AuthConfig>, image: string): AuthConfig[] {
  const creds = new Map<string, AuthConfig[]>();
  for (const [loc, cfg] of Object.entries(auth)) {
    const key = keyringKey(loc);
    if (key === undefined) continue;
    creds.set(key, [...(creds.get(key) ?? []), { username: cfg.username, password: cfg.password }]);
  }
  const index = [...creds.keys()].sort().reverse();
  const found = index.filter((k) => urlsMatchStr(k, image)).flatMap((k) => creds.get(k) ?? []);
  if (found.length > 0) return found;
  if (isDefaultRegistryMatch(image)) return creds.get('index.docker.io') ?? [];
  return [];
}
