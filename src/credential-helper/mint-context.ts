// What minting, revoking and the job's token share: the context of one locked run, and what a
// credential and a login depend on in the configuration (cached answers are keyed by these).
import { authMethod } from '../auth/from-settings.js';
import type { AuthMethod } from '../auth/method.js';
import type { Entry } from '../core/registry-entries.js';
import { createTransport } from '../core/transport.js';
import { VaultClient } from '../core/vault.js';
import type { CacheDoc } from './cache.js';
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
