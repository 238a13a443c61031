// The job's Vault token (credential_helper.job): read from auth.token_file, renewed with
// renew-self once half its TTL has passed, and, when Vault no longer knows it (its TTL ran out in
// a long gap between docker commands, or it reached its max TTL), replaced by a new login with a
// fresh identity token of the job. The new token is written back to the file, so the job's
// cleanup revokes the token that is alive. Runs holding the cache's lock.
import type { VaultLogin } from '../auth/method.js';
import { VaultHttpError, VdlError } from '../core/errors.js';
import { readPrivateText } from '../core/job-dir.js';
import type { IdentityProvider } from '../core/ports.js';
import { writePrivateFile } from '../core/private-dir.js';
import { systemClock } from '../core/retry.js';
import type { VaultClient } from '../core/vault.js';
import { githubIdentity } from '../identity/github.js';
import { jwtEnvIdentity } from '../identity/jwt-env.js';
import { jwtFileIdentity } from '../identity/jwt-file.js';
import type { Relogin } from './job-settings.js';
import { tokenReusable } from './lifetime.js';
import { authOf, type MintContext } from './mint-context.js';

function identity(r: Relogin, env: NodeJS.ProcessEnv, retries: number): IdentityProvider {
  switch (r.identity.kind) {
    case 'github':
      return githubIdentity(env, systemClock, retries, () => {});
    case 'jwt_env':
      return jwtEnvIdentity(env, r.identity.name);
    case 'jwt_file':
      return jwtFileIdentity(r.identity.path, 'credential_helper.job.relogin.jwt_file');
  }
}

/** Vault refused the token itself: expired, revoked, or never valid. */
const dead = (err: unknown) => err instanceof VaultHttpError && err.status === 403;

/**
 * The token to lease with. `stale` is a token Vault just refused for a lease: it is not renewed
 * again but replaced.
 */
export async function jobToken(
  ctx: MintContext,
  vault: VaultClient,
  stale?: string,
): Promise<VaultLogin> {
  const { cfg, doc } = ctx;
  const job = cfg.settings.job;
  const auth = cfg.host.auth;
  if (!job || auth.method !== 'token_file') throw new Error('jobToken outside job mode');
  const ns = cfg.host.connection.authNamespace;
  // The job's own token: trusted only in a 0600 file of this user, never through a symlink.
  const token = readPrivateText(auth.tokenFile)?.trim();
  if (!token)
    throw new VdlError(
      'config',
      `The job's Vault token file ${auth.tokenFile} (auth.token_file) is missing, empty, or not a 0600 file of this user; not trusting it.`,
      'It is written by the login of the credential-helper mode and removed by its logout (the post step): log in again.',
    );
  const remember = (t: string, now: number, ttl: number): VaultLogin => {
    const expiresAt = ttl > 0 ? now + ttl * 1000 : undefined;
    doc.vault = { token: t, auth: authOf(cfg), issuedAt: now, expiresAt };
    ctx.save();
    return { token: t, revocable: false, expiresAt };
  };
  const known =
    doc.vault?.token === token && doc.vault.auth === authOf(cfg) ? doc.vault : undefined;
  const now = Date.now();
  if (token !== stale && known && tokenReusable(known, now))
    return { token, revocable: false, expiresAt: known.expiresAt };
  let why = `Vault refused it for a lease (${auth.tokenFile})`;
  if (token !== stale && job.renew) {
    try {
      return remember(token, now, await vault.renewSelf(token, ns));
    } catch (err) {
      if (!dead(err)) throw err;
      why = `renewing it (auth/token/renew-self) was refused: it expired or was revoked`;
    }
  }
  const r = job.relogin;
  if (!r)
    throw new VdlError(
      'vault-login',
      `The job's Vault token in ${auth.tokenFile} cannot be used: ${why}.`,
      "Raise the JWT role's token_ttl above the longest gap between docker commands of the job, or log in again.",
    );
  const at = Date.now();
  const jwt = await identity(r, ctx.env, cfg.host.connection.retries).getToken(
    r.audience,
    at + cfg.host.connection.timeoutMs,
  );
  let fresh: Awaited<ReturnType<VaultClient['jwtLogin']>>;
  try {
    fresh = await vault.jwtLogin(r.mount, r.role, jwt, ns);
  } catch (err) {
    if (!(err instanceof VaultHttpError)) throw err;
    throw new VdlError(
      'vault-login',
      `The job's Vault token could not be renewed (${why}), and logging in again as role "${r.role}" on auth/${r.mount} failed: ${err.message}`,
      `Check role "${r.role}" (vault read auth/${r.mount}/role/${r.role}) still accepts this job's identity token.`,
    );
  }
  writePrivateFile(auth.tokenFile, `${fresh.token}\n`);
  return remember(fresh.token, at, fresh.leaseDuration);
}
