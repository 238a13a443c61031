// `erase`: revoke every lease the cache holds for a registry (the current credential and any it
// replaced that still works) and the Vault tokens that minted them (only ones this helper logged
// in for, never a borrowed VAULT_TOKEN or Vault Agent token), then forget them. Revoking a token
// revokes every lease it minted, so whatever else it minted is forgotten too.

import type { VaultLogin } from '../auth/method.js';
import { describe, VdlError } from '../core/errors.js';
import { revokePolicyPath } from '../core/vault.js';
import type { CacheDoc, CachedCredential } from './cache.js';
import { hostAuth, type MintContext, vaultClient } from './mint-context.js';

const revokePolicy = (leaseId: string) =>
  `path "${revokePolicyPath(leaseId)}" {\n  capabilities = ["update"]\n}`;

/** A revoked token's leases are dead: forget every credential it minted, and the token itself. */
function forgetToken(doc: CacheDoc, token: string): void {
  for (const [k, e] of Object.entries(doc.entries)) if (e.token === token) delete doc.entries[k];
  doc.retired = doc.retired.filter((r) => r.token !== token);
  if (doc.vault?.token === token) doc.vault = undefined;
}

export async function revokeRegistry(ctx: MintContext, key: string): Promise<void> {
  const { doc, cfg } = ctx;
  const current = doc.entries[key];
  const held: CachedCredential[] = [
    ...(current ? [current] : []),
    ...doc.retired.filter((r) => r.key === key),
  ];
  // Forgotten whatever happens next: erase means "never hand these out again".
  delete doc.entries[key];
  doc.retired = doc.retired.filter((r) => r.key !== key);
  const vault = vaultClient(cfg, Date.now());
  const { namespace, authNamespace } = cfg.host.connection;
  // For leases minted with a borrowed token: the token the auth settings give now.
  let login: Promise<VaultLogin> | undefined;
  const loginOnce = () => {
    login ??= hostAuth(ctx).login(vault, Date.now());
    return login;
  };
  const revokedTokens = new Set<string>();
  const problems: string[] = [];
  for (const c of held) {
    const ends = c.endsAt ? ` It ends on its own at ${new Date(c.endsAt).toISOString()}.` : '';
    if (c.leaseId && !(c.token && revokedTokens.has(c.token))) {
      try {
        // Our own token may revoke its lease; a borrowed one is fetched again (env, Agent sink).
        const token = c.token ?? (await loginOnce()).token;
        const r = await vault.revokeLease(c.leaseId, token, namespace);
        // Where our token's policy may not revoke the lease, revoke-self below covers it.
        if (r === 'forbidden' && !c.token)
          problems.push(
            `Vault refused to revoke lease ${c.leaseId} (403).${ends} Allow the token to revoke this engine's leases:\n${revokePolicy(c.leaseId)}`,
          );
      } catch (err) {
        if (!c.token) problems.push(`Revoking lease ${c.leaseId} failed: ${describe(err)}${ends}`);
      }
    }
    if (c.token && !revokedTokens.has(c.token)) {
      try {
        await vault.revokeSelf(c.token, authNamespace);
        revokedTokens.add(c.token);
        forgetToken(doc, c.token);
      } catch (err) {
        problems.push(
          `Revoking the Vault token that minted it failed: ${describe(err)}${ends}` +
            (c.leaseId ? ` To revoke the lease now: vault lease revoke ${c.leaseId}` : ''),
        );
      }
    }
  }
  // The auth settings changed to a method that logs in (JWT, AppRole) since: that token goes too.
  const extra = await login?.catch(() => undefined);
  if (extra?.revocable) await vault.revokeSelf(extra.token, authNamespace).catch(() => undefined);
  if (problems.length)
    throw new VdlError(
      'vault',
      `The credential for ${key} is forgotten, but:\n${problems.join('\n')}`,
    );
}
