// How a request travels: Node's own http/https client for a direct connection, undici's
// EnvHttpProxyAgent (loaded only then) when HTTP(S)_PROXY applies. Node's client is already in
// every process; undici and its WebAssembly parser cost about 20 ms of start on every step
// (docs/performance.md), and only a proxied connection needs them.
import * as http from 'node:http';
import type * as Https from 'node:https';
import type { TransportAnswer, TransportRequest } from './ports.js';
import { proxyFor } from './proxy-env.js';
import type { SettingNames } from './setting-names.js';
import { tlsMaterial } from './tls-material.js';
import type { TlsConfig } from './vault-connection.js';

export interface Transport {
  request(r: TransportRequest): Promise<TransportAnswer>;
  /** Whether a client certificate is presented, to explain a refused handshake. */
  readonly clientCert: boolean;
  /** How the entry point names the TLS settings, to explain a failed handshake. */
  readonly names?: SettingNames;
  /** Closes idle connections (a long-running process that stops). */
  close(): Promise<void>;
}

/** A proxied transport: undici, in a file of its own loaded on first use. */
type ProxyTransport = Pick<Transport, 'request' | 'close'>;

export function createTransport(tls?: TlsConfig, names?: SettingNames): Transport {
  const material = tlsMaterial(tls, names);
  const plain = new http.Agent({ keepAlive: true });
  // node:https (and with it tls) loads only for an https:// Vault.
  let secure: Promise<{ mod: typeof Https; agent: Https.Agent }> | undefined;
  let proxied: Promise<ProxyTransport> | undefined;

  function https() {
    secure ??= import('node:https').then((mod) => ({
      mod,
      agent: new mod.Agent({ keepAlive: true, ...material }),
    }));
    return secure;
  }

  async function direct(r: TransportRequest): Promise<TransportAnswer> {
    const { mod, agent } =
      r.url.protocol === 'https:' ? await https() : { mod: http, agent: plain };
    return new Promise((resolve, reject) => {
      const req = mod.request(
        r.url,
        { method: r.method, headers: r.headers, agent, signal: r.signal },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(r.body);
    });
  }

  return {
    clientCert: Boolean(material.cert),
    names,
    request(r) {
      if (!proxyFor(r.url, process.env)) return direct(r);
      proxied ??= import('./transport-proxy.js').then((m) => m.proxyTransport(material));
      return proxied.then((p) => p.request(r));
    },
    async close() {
      plain.destroy();
      if (secure) (await secure).agent.destroy();
      if (proxied) await (await proxied).close();
    },
  };
}
