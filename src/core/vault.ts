// The few Vault calls we make, each retried under one deadline; errors keep Vault's own texts.
import { VaultHttpError } from './errors.js';
import { httpJson, redirectNote } from './http.js';
import { type Clock, systemClock, withRetry } from './retry.js';
import type { Transport } from './transport.js';
import { judgeVault } from './vault-retry.js';

export interface VaultAuth {
  token: string;
  accessor?: string;
  policies: string[];
  leaseDuration: number;
}

export interface VaultOptions {
  url: string;
  transport: Transport;
  retries: number;
  /** Epoch ms by which every call must be done. */
  deadline: number;
  clock?: Clock;
  /** `counted` is false for a retry that waits out a leader election (bounded by the deadline). */
  onRetry?: (what: string, waitMs: number, attempt: number, counted: boolean) => void;
}

export interface Call {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  token?: string;
  namespace?: string;
  body?: unknown;
  /** Ask Vault to response-wrap the answer for this long (a duration such as "60s"). */
  wrapTtl?: string;
  /** Fewer retries than the client's (0 for a call that must happen at most once). */
  retries?: number;
}

/** What `sys/wrapping/lookup` tells about a wrapping token without using it. */
export interface WrapInfo {
  creationPath: string;
  creationTime: string;
  creationTtl: number;
}

function errorsOf(body: unknown): string[] {
  const errs = (body as { errors?: unknown } | undefined)?.errors;
  return Array.isArray(errs) ? errs.map(String) : [];
}

/** The policy path that lets a token revoke `leaseId` and its siblings: the id's prefix, then *. */
export function revokePolicyPath(leaseId: string): string {
  return `sys/leases/revoke/${leaseId.split('/').slice(0, -1).join('/')}/*`;
}

export class VaultClient {
  /** The time the caller allowed (its timeout), reused as the budget for cleanup. */
  private readonly budgetMs: number;
  private cleanupDeadline?: number;

  constructor(readonly opts: VaultOptions) {
    this.budgetMs = Math.max(1, opts.deadline - (opts.clock ?? systemClock).now());
  }

  /**
   * Revocations get one fresh budget, started at the first: a login that failed by spending its
   * whole timeout must still revoke its token, or a write still queued could lease with it later.
   */
  private revokeDeadline(): number {
    this.cleanupDeadline ??= (this.opts.clock ?? systemClock).now() + this.budgetMs;
    return this.cleanupDeadline;
  }

  /** Returns the parsed body of a 2xx answer; throws VaultHttpError otherwise. */
  async call(c: Call, deadline = this.opts.deadline): Promise<unknown> {
    const headers: Record<string, string> = { 'x-vault-request': 'true' };
    if (c.token) headers['x-vault-token'] = c.token;
    if (c.namespace) headers['x-vault-namespace'] = c.namespace;
    if (c.wrapTtl) headers['x-vault-wrap-ttl'] = c.wrapTtl;
    const clock = this.opts.clock ?? systemClock;
    return withRetry(
      async (remainingMs) => {
        const res = await httpJson(this.opts.transport, {
          method: c.method,
          url: `${this.opts.url}/v1/${c.path}`,
          headers,
          body: c.body,
          timeoutMs: remainingMs,
        });
        if (res.status >= 200 && res.status < 300) return res.body;
        const errors = [...errorsOf(res.body), ...redirectNote(res)];
        const err = new VaultHttpError(res.status, c.path, errors);
        const ra = res.headers['retry-after'];
        err.retryAfter = Array.isArray(ra) ? ra[0] : ra;
        throw err;
      },
      judgeVault,
      { retries: c.retries ?? this.opts.retries, deadline, clock },
      (_err, wait, n, counted) => this.opts.onRetry?.(`${c.method} ${c.path}`, wait, n, counted),
    );
  }

  /** POST auth/<mount>/login with the method's body; the answer's `auth` block. */
  async login(
    mount: string,
    body: Record<string, unknown>,
    namespace?: string,
  ): Promise<VaultAuth> {
    const path = `auth/${mount}/login`;
    const answer = (await this.call({ method: 'POST', path, namespace, body })) as {
      auth?: {
        client_token?: string;
        accessor?: string;
        policies?: string[];
        lease_duration?: number;
      };
    };
    const auth = answer?.auth;
    if (!auth?.client_token)
      throw new VaultHttpError(200, path, ['answer has no auth.client_token']);
    return {
      token: auth.client_token,
      accessor: auth.accessor,
      policies: auth.policies ?? [],
      leaseDuration: auth.lease_duration ?? 0,
    };
  }

  jwtLogin(mount: string, role: string, jwt: string, namespace?: string): Promise<VaultAuth> {
    return this.login(mount, { role, jwt }, namespace);
  }

  /**
   * The token's own remaining TTL in seconds (0: it never expires), for a token this tool did not
   * log in for (VAULT_TOKEN, a Vault Agent sink): whatever it leases dies with it.
   */
  async tokenTtl(token: string, namespace?: string): Promise<number> {
    const answer = (await this.call({
      method: 'GET',
      path: 'auth/token/lookup-self',
      token,
      namespace,
    })) as { data?: { ttl?: number } };
    return answer?.data?.ttl ?? 0;
  }

  /**
   * POST auth/token/renew-self: extends the token by its role's TTL, never past its max TTL.
   * Returns the TTL it now has, in seconds (0: it never expires).
   */
  async renewSelf(token: string, namespace?: string): Promise<number> {
    const answer = (await this.call({
      method: 'POST',
      path: 'auth/token/renew-self',
      token,
      namespace,
      body: {},
    })) as { auth?: { lease_duration?: number } };
    return answer?.auth?.lease_duration ?? 0;
  }

  /** Looks a wrapping token up without using it (read-only, so retried like any read). */
  async lookupWrapping(wrapToken: string, namespace?: string): Promise<WrapInfo> {
    const answer = (await this.call({
      method: 'POST',
      path: 'sys/wrapping/lookup',
      namespace,
      body: { token: wrapToken },
    })) as { data?: { creation_path?: string; creation_time?: string; creation_ttl?: number } };
    return {
      creationPath: answer?.data?.creation_path ?? '',
      creationTime: answer?.data?.creation_time ?? '',
      creationTtl: answer?.data?.creation_ttl ?? 0,
    };
  }

  /**
   * Unwraps once: never retried, since a retry after a lost answer would find the token used and
   * look like an interception. The token goes in X-Vault-Token only, never also in the body.
   */
  unwrap(wrapToken: string, namespace?: string): Promise<unknown> {
    return this.call({
      method: 'POST',
      path: 'sys/wrapping/unwrap',
      token: wrapToken,
      namespace,
      retries: 0,
    });
  }

  /**
   * PUT sys/leases/revoke/<lease id>: the path form, so a policy can grant revoking only its own
   * engine's leases (`sys/leases/revoke/<engine>/token/<account>/*`). Only a Vault without the
   * path form (404, 405) is asked in the body form, which needs plain `sys/leases/revoke`: every
   * lease in Vault. 'forbidden' when the policy does not grant it (the default policy does not).
   */
  async revokeLease(
    leaseId: string,
    token: string,
    namespace?: string,
  ): Promise<'revoked' | 'forbidden'> {
    const path = `sys/leases/revoke/${leaseId.split('/').map(encodeURIComponent).join('/')}`;
    try {
      await this.call({ method: 'PUT', path, token, namespace }, this.revokeDeadline());
      return 'revoked';
    } catch (err) {
      if (err instanceof VaultHttpError && err.status === 403) return 'forbidden';
      if (!(err instanceof VaultHttpError && [404, 405].includes(err.status))) throw err;
    }
    try {
      await this.call(
        { method: 'PUT', path: 'sys/leases/revoke', token, namespace, body: { lease_id: leaseId } },
        this.revokeDeadline(),
      );
      return 'revoked';
    } catch (err) {
      if (err instanceof VaultHttpError && err.status === 403) return 'forbidden';
      throw err;
    }
  }

  /** Revokes the token and every lease it created. 'gone' when the token is already invalid. */
  async revokeSelf(token: string, namespace?: string): Promise<'revoked' | 'gone'> {
    try {
      await this.call(
        { method: 'POST', path: 'auth/token/revoke-self', token, namespace },
        this.revokeDeadline(),
      );
      return 'revoked';
    } catch (err) {
      if (err instanceof VaultHttpError && err.status === 403) return 'gone';
      throw err;
    }
  }
}
