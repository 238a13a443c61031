// JSON over HTTP: a per-call time limit, and errors that say what to fix (TLS, proxies).
import { VdlError } from './errors.js';
import { proxyFor } from './proxy-env.js';
import { parseRetryAfter, type Verdict } from './retry.js';
import { naming } from './setting-names.js';
import type { Transport } from './transport.js';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text: string;
}

const UNTRUSTED =
  /SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|CERT_(HAS_EXPIRED|NOT_YET_VALID|UNTRUSTED|REJECTED)|ALTNAME/;

/** What to set when an HTTPS handshake fails; undefined when it is not a TLS matter. */
function tlsHint(u: URL, code: string, transport: Transport): string | undefined {
  if (u.protocol !== 'https:') return undefined;
  const name = naming(transport.names);
  if (UNTRUSTED.test(code))
    return (
      `The certificate of ${u.host} is not trusted: set ${name('ca-certificate')} ` +
      `or VAULT_CACERT to the CA that signed it. As the insecure last resort, set ${name('tls-skip-verify')}.`
    );
  // A server that requires a client certificate closes the connection after the handshake.
  if (!transport.clientCert && /SOCKET|ECONNRESET|CERTIFICATE_REQUIRED/.test(code))
    return (
      `If Vault requires a client certificate (mTLS), set ${name('client-certificate')} and ` +
      `${name('client-key')} or VAULT_CLIENT_CERT and VAULT_CLIENT_KEY.`
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
  transport: Transport,
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
    const res = await transport.request({
      method: opts.method,
      url: u,
      headers: {
        accept: 'application/json',
        ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...opts.headers,
      },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal,
    });
    const { text } = res;
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.status, headers: res.headers, body, text };
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
      tlsHint(u, code, transport),
      proxy && `Check the proxy in ${proxy.from}, or list ${u.hostname} in NO_PROXY.`,
    ].filter(Boolean);
    throw new VdlError(
      UNTRUSTED.test(code) ? 'tls' : 'network',
      `Cannot reach ${u.origin}${u.pathname}${proxy ? ` through the proxy ${proxy.url} (${proxy.from})` : ''}: ${code}`,
      hints.length ? hints.join('\n') : undefined,
    );
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

/** A redirect's Location, as the error text of an answer that has no `errors` of its own. */
export function redirectNote(answer: HttpAnswer): string[] {
  const to = answer.headers.location;
  if (answer.status < 300 || answer.status >= 400 || !to) return [];
  return [`redirected to ${String(to)} (a standby naming the active node; not followed)`];
}

/** Retry verdict for errors thrown by httpJson or carrying a `status` and `retryAfter`. */
export function judgeHttp(err: unknown): Verdict {
  if (err instanceof HttpTimeoutError) return { retry: false };
  if (err instanceof VdlError && err.kind === 'network') return { retry: true };
  const e = err as { status?: number; retryAfter?: string };
  if (typeof e?.status === 'number' && retryableStatus(e.status)) {
    const asked = parseRetryAfter(e.retryAfter, Date.now());
    // A rate-limit quota counts per interval, 1 s at the least; OpenBao sends no Retry-After (or
    // "Retry-After: 0" with its rate-limit headers on): a sooner retry is refused again.
    if (e.status === 429) return { retry: true, retryAfterMs: Math.max(asked ?? 0, 1000) };
    return { retry: true, retryAfterMs: asked };
  }
  return { retry: false };
}
