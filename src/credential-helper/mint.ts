// A new credential for one registry: log in to Vault (or reuse the cached token), issue from the
// registry's Vault source, and describe how long it may be handed out. Runs holding the lock.
import type { AuthMethod, VaultLogin } from '../auth/method.js';
import { VaultHttpError } from '../core/errors.js';
import { issueCredential } from '../core/issue.js';
import type { Entry } from '../core/registry-entries.js';
import type { VaultClient } from '../core/vault.js';
import type { CachedCredential } from './cache.js';
import { jobToken } from './job-token.js';
import { endsAt, tokenReusable, useUntil } from './lifetime.js';
import { authOf, hostAuth, type MintContext, sourceOf, vaultClient } from './mint-context.js';

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
