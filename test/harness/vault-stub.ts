// An in-memory Vault for unit tests of code that talks to Vault through the real VaultClient: the
// Transport port answers each request from a handler, and every request is recorded.
import type { Transport } from '../../src/core/transport.js';
import { VaultClient } from '../../src/core/vault.js';

export interface StubRequest {
  method: string;
  /** The path after /v1/. */
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

/** What a handler answers: a status and a JSON body (Vault's `{errors}` for a refusal). */
export interface StubAnswer {
  status: number;
  body?: unknown;
}

export function vaultStub(
  answer: (r: StubRequest) => StubAnswer,
  opts: { retries?: number } = {},
): {
  vault: VaultClient;
  requests: StubRequest[];
} {
  const requests: StubRequest[] = [];
  const transport: Transport = {
    clientCert: false,
    close: async () => {},
    async request(r) {
      const req: StubRequest = {
        method: r.method,
        path: r.url.pathname.replace(/^\/v1\//, ''),
        headers: r.headers,
        body: r.body === undefined ? undefined : JSON.parse(r.body),
      };
      requests.push(req);
      const a = answer(req);
      return {
        status: a.status,
        headers: { 'content-type': 'application/json' },
        text: a.body === undefined ? '' : JSON.stringify(a.body),
      };
    },
  };
  const vault = new VaultClient({
    url: 'http://127.0.0.1:8200',
    transport,
    retries: opts.retries ?? 0,
    // Retries do not wait.
    clock: { now: () => Date.now(), sleep: async () => {} },
    deadline: Date.now() + 60_000,
  });
  return { vault, requests };
}

/** Vault's refusal body. */
export const refused = (status: number, ...errors: string[]): StubAnswer => ({
  status,
  body: { errors },
});
