// Which proxy HTTP(S)_PROXY / NO_PROXY give a URL, as undici's EnvHttpProxyAgent decides it.

/** The proxy for `u`, without credentials (for messages too); undefined for a direct connection. */
export function proxyFor(
  u: URL,
  env: NodeJS.ProcessEnv,
): { url: string; from: string } | undefined {
  // As undici: an https:// URL falls back to the HTTP proxy when no HTTPS proxy is set.
  const http = ['http_proxy', 'HTTP_PROXY'];
  const names = u.protocol === 'https:' ? ['https_proxy', 'HTTPS_PROXY', ...http] : http;
  const from = names.find((n) => env[n]);
  if (!from) return undefined;
  const noProxy = (env.no_proxy ?? env.NO_PROXY ?? '').split(/[,\s]+/).filter(Boolean);
  const host = u.hostname.toLowerCase();
  const bypass = noProxy.some((entry) => {
    if (entry === '*') return true;
    const [name = '', port] = entry.toLowerCase().split(':');
    if (port && port !== (u.port || (u.protocol === 'https:' ? '443' : '80'))) return false;
    const bare = name.replace(/^\*?\./, '');
    return host === bare || host.endsWith(`.${bare}`);
  });
  if (bypass) return undefined;
  try {
    const p = new URL(env[from] as string);
    return { url: `${p.protocol}//${p.host}`, from };
  } catch {
    return { url: '(unparsable)', from };
  }
}
