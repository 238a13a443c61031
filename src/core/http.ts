// JSON over HTTP on undici: TLS options, proxies from HTTPS_PROXY/NO_PROXY, a per-call time limit.
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import type { Dispatcher } from 'undici';
import connect from 'undici/lib/api/api-connect.js';
import request from 'undici/lib/api/api-request.js';
import DispatcherClass from 'undici/lib/dispatcher/dispatcher.js';
import EnvHttpProxyAgent from 'undici/lib/dispatcher/env-http-proxy-agent.js';
import type { TlsConfig } from './config.js';
import { VdlError } from './errors.js';
import { parseRetryAfter, type Verdict } from './retry.js';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text: string;
}

function read(input: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new VdlError('config', `Cannot read ${input} file ${file}: ${(err as Error).message}`);
  }
}

// undici parses HTTP with llhttp compiled to WebAssembly. V8's optimising tier-up of that module
// runs on a background thread that node waits for at exit: ~70 ms on every step, more than all
// the requests together. A step makes a handful of requests; the baseline compiler is plenty.
setFlagsFromString('--liftoff-only');

// ProxyAgent opens its tunnel with `client.connect`, a method undici's index adds to every
// dispatcher. We import the pieces, not the index (bundle size), so add that one method here.
DispatcherClass.prototype.connect ??= connect;

/** A dispatcher honouring HTTP(S)_PROXY / NO_PROXY, with the TLS settings for the target. */
export function createDispatcher(tls?: TlsConfig): Dispatcher {
  const connect = {
    ca: tls?.ca ?? (tls?.caFile ? read('VAULT_CACERT', tls.caFile) : undefined),
    cert: tls?.cert ?? (tls?.certFile ? read('VAULT_CLIENT_CERT', tls.certFile) : undefined),
    key: tls?.key ?? (tls?.keyFile ? read('VAULT_CLIENT_KEY', tls.keyFile) : undefined),
    rejectUnauthorized: !tls?.skipVerify,
  };
  // requestTls covers the tunnelled connection when a proxy is in use.
  const agent = new EnvHttpProxyAgent({ connect, requestTls: connect });
  presentsClientCert.set(agent, Boolean(connect.cert));
  return agent;
}

/** Whether a dispatcher presents a client certificate, to explain a refused handshake. */
const presentsClientCert = new WeakMap<Dispatcher, boolean>();

const UNTRUSTED =
  /SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|CERT_(HAS_EXPIRED|NOT_YET_VALID|UNTRUSTED|REJECTED)|ALTNAME/;

/** What to set when an HTTPS handshake fails; undefined when it is not a TLS matter. */
function tlsHint(u: URL, code: string, dispatcher: Dispatcher): string | undefined {
  if (u.protocol !== 'https:') return undefined;
  if (UNTRUSTED.test(code))
    return (
      `The certificate of ${u.host} is not trusted: set the ca-certificate input (PEM or base64) ` +
      'or VAULT_CACERT to the CA that signed it. The tls-skip-verify input is the insecure last resort.'
    );
  // A server that requires a client certificate closes the connection after the handshake.
  if (!presentsClientCert.get(dispatcher) && /SOCKET|ECONNRESET|CERTIFICATE_REQUIRED/.test(code))
    return (
      'If Vault requires a client certificate (mTLS), set the client-certificate input and the ' +
      'client-key input (PEM or base64) or VAULT_CLIENT_CERT and VAULT_CLIENT_KEY.'
    );
  return undefined;
}

/** Thrown when no answer arrived in time; never retried because the budget is spent. */
export class HttpTimeoutError extends VdlError {
  constructor(url: string, ms: number) {
    super('timeout', `No answer from ${url} within ${Math.round(ms / 100) / 10} s.`);
  }
}

export async function httpJson(
  dispatcher: Dispatcher,
  opts: {
    method: string;
    url: string;
    headers?: Record<string, string>;
    body?: unknown;
    timeoutMs: number;
  },
): Promise<HttpAnswer> {
  const u = new URL(opts.url);
  const signal = AbortSignal.timeout(opts.timeoutMs);
  try {
    const res = await request.call(dispatcher, {
      origin: u.origin,
      path: u.pathname + u.search,
      method: opts.method as Dispatcher.HttpMethod,
      headers: {
        accept: 'application/json',
        ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...opts.headers,
      },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal,
    });
    const text = await res.body.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.statusCode, headers: res.headers, body, text };
  } catch (err) {
    if (signal.aborted) throw new HttpTimeoutError(`${u.origin}${u.pathname}`, opts.timeoutMs);
    const proxy = proxyFor(u, process.env);
    const code = describeNetworkError(err);
    // A TLS handshake answered in plain HTTP: OpenSSL's text would only confuse; retrying cannot help.
    if (u.protocol === 'https:' && /WRONG_VERSION_NUMBER|wrong version number/.test(code))
      throw new VdlError(
        'tls',
        `${u.origin} answers plain HTTP, not HTTPS: use http://${u.host} as the Vault address, or enable TLS on Vault's listener.`,
      );
    const hints = [
      tlsHint(u, code, dispatcher),
      proxy && `Check the proxy in ${proxy.from}, or list ${u.hostname} in NO_PROXY.`,
    ].filter(Boolean);
    throw new VdlError(
      UNTRUSTED.test(code) ? 'tls' : 'network',
      `Cannot reach ${u.origin}${u.pathname}${proxy ? ` through the proxy ${proxy.url} (${proxy.from})` : ''}: ${code}`,
      hints.length ? hints.join('\n') : undefined,
    );
  }
}

/** The proxy undici's EnvHttpProxyAgent uses for `u`, without credentials, for error messages. */
export function proxyFor(
  u: URL,
  env: NodeJS.ProcessEnv,
): { url: string; from: string } | undefined {
  const names =
    u.protocol === 'https:' ? ['https_proxy', 'HTTPS_PROXY'] : ['http_proxy', 'HTTP_PROXY'];
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

function describeNetworkError(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return [e.code ?? e.cause?.code, e.message ?? e.cause?.message].filter(Boolean).join(' ');
}

/** Vault's own client retries these: 412 (standby behind), 429, and 5xx except 501. */
export function retryableStatus(status: number): boolean {
  return status === 412 || status === 429 || (status >= 500 && status !== 501);
}

/** Retry verdict for errors thrown by httpJson or carrying a `status` and `retryAfter`. */
export function judgeHttp(err: unknown): Verdict {
  if (err instanceof HttpTimeoutError) return { retry: false };
  if (err instanceof VdlError && err.kind === 'network') return { retry: true };
  const e = err as { status?: number; retryAfter?: string };
  if (typeof e?.status === 'number' && retryableStatus(e.status)) {
    return { retry: true, retryAfterMs: parseRetryAfter(e.retryAfter, Date.now()) };
  }
  return { retry: false };
}
