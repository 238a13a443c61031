// A new credential for one registry: log in to Vault (or reuse the cached token), issue from the
// registry's Vault source, and describe how long it may be handed out. Runs holding the lock.
import { authMethod } from '../auth/from-settings.js';
import type { AuthMethod, VaultLogin } from '../auth/method.js';
import { VaultHttpError } from '../core/errors.js';
import { issueCredential } from '../core/issue.js';
import type { Entry } from '../core/registry-entries.js';
import { createTransport } from '../core/transport.js';
import { VaultClient } from '../core/vault.js';
import type { CacheDoc, CachedCredential } from './cache.js';
import { jobToken } from './job-token.js';
import { endsAt, tokenReusable, useUntil } from './lifetime.js';
import type { HelperConfig } from './settings.js';

export interface MintContext {
  cfg: HelperConfig;
  env: NodeJS.ProcessEnv;
  doc: CacheDoc;
  save: () => void;
}

/** What a registry's credential depends on in the configuration: where it comes from. */
export function sourceOf(cfg: HelperConfig, entry: Entry): string {
  const c = cfg.host.connection;
  return JSON.stringify([c.url, c.namespace ?? '', entry.source, entry.fields]);
}

/** What a Vault login depends on in the configuration. */
export function authOf(cfg: HelperConfig): string {
  const c = cfg.host.connection;
  return JSON.stringify([c.url, c.authNamespace ?? '', cfg.host.auth]);
}

export function vaultClient(cfg: HelperConfig, now: number): VaultClient {
  const c = cfg.host.connection;
  return new VaultClient({
    url: c.url,
    transport: createTransport(c.tls, c.names),
    retries: c.retries,
    deadline: now + c.timeoutMs,
  });
}

export function hostAuth(ctx: Pick<MintContext, 'cfg' | 'env'>): AuthMethod {
  return authMethod(ctx.cfg.host.auth, {
    env: ctx.env,
    namespace: ctx.cfg.host.connection.authNamespace,
  });
}

/** A login, remembered in the cache when it is ours to reuse and revoke (JWT, AppRole). */
async function login(
  ctx: MintContext,
  vault: VaultClient,
  method: AuthMethod,
): Promise<VaultLogin> {
  const now = Date.now();
  const l = await method.login(vault, now);
  if (l.revocable) {
    ctx.doc.vault = {
      token: l.token,
      auth: authOf(ctx.cfg),
      issuedAt: now,
      expiresAt: l.expiresAt,
    };
    ctx.save();
  }
  return l;
}

export async function mint(ctx: MintContext, entry: Entry): Promise<CachedCredential> {
  const started = Date.now();
  const vault = vaultClient(ctx.cfg, started);
  const job = ctx.cfg.settings.job !== undefined;
  const method = hostAuth(ctx);
  const cached = ctx.doc.vault;
  const reuse =
    job || (cached && cached.auth === authOf(ctx.cfg) && tokenReusable(cached, started));
  let current: VaultLogin = job
    ? await jobToken(ctx, vault)
    : reuse && cached
      ? { token: cached.token, revocable: true, expiresAt: cached.expiresAt }
      : await login(ctx, vault, method);
  const issue = (token: string) =>
    issueCredential(vault, token, entry, ctx.cfg.host.connection, { mask() {} }, Date.now);
  let cred: Awaited<ReturnType<typeof issue>>;
  try {
    cred = await issue(current.token);
  } catch (err) {
    // A cached token revoked or expired behind our back: log in once more.
    if (!reuse || !(err instanceof VaultHttpError) || err.status !== 403) throw err;
    if (job) current = await jobToken(ctx, vault, current.token);
    else {
      ctx.doc.vault = undefined;
      ctx.save();
      current = await login(ctx, vault, method);
    }
    cred = await issue(current.token);
  }
  const ends = endsAt(started, cred, current.expiresAt);
  return {
    username: cred.username,
    secret: cred.secret,
    leaseId: cred.leaseId,
    endsAt: ends,
    useUntil: useUntil(started, ends, ctx.cfg.settings),
    source: sourceOf(ctx.cfg, entry),
    token: current.revocable ? current.token : undefined,
  };
}
