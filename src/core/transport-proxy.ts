// Requests through HTTP(S)_PROXY with undici's EnvHttpProxyAgent (which also honours NO_PROXY).
// Loaded only when a proxy applies (see transport.ts).
import { setFlagsFromString } from 'node:v8';
import type { Dispatcher } from 'undici';
import connect from 'undici/lib/api/api-connect.js';
import request from 'undici/lib/api/api-request.js';
import DispatcherClass from 'undici/lib/dispatcher/dispatcher.js';
import EnvHttpProxyAgent from 'undici/lib/dispatcher/env-http-proxy-agent.js';
import type { TransportAnswer, TransportRequest } from './ports.js';
import type { TlsMaterial } from './tls-material.js';

// undici parses HTTP with llhttp compiled to WebAssembly. V8's optimising tier-up of that module
// runs on a background thread that node waits for at exit: ~70 ms. A handful of requests is
// plenty for the baseline compiler.
setFlagsFromString('--liftoff-only');

// ProxyAgent opens its tunnel with `client.connect`, a method undici's index adds to every
// dispatcher. We import the pieces, not the index (bundle size), so add that one method here.
DispatcherClass.prototype.connect ??= connect;

export function proxyTransport(tls: TlsMaterial) {
  // requestTls covers the tunnelled connection to the target.
  const agent: Dispatcher = new EnvHttpProxyAgent({ connect: tls, requestTls: tls });
  return {
    async request(r: TransportRequest): Promise<TransportAnswer> {
      const res = await request.call(agent, {
        origin: r.url.origin,
        path: r.url.pathname + r.url.search,
        method: r.method as Dispatcher.HttpMethod,
        headers: r.headers,
        body: r.body,
        signal: r.signal,
      });
      return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
    },
    close: () => agent.close(),
  };
}
