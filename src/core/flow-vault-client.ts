// The Vault client a flow (login, cleanup) talks through, from the configuration.
import type { Config } from './config.js';
import type { Logger } from './ports.js';
import type { Clock } from './retry.js';
import { naming } from './setting-names.js';
import { createTransport } from './transport.js';
import { VaultClient } from './vault.js';

/** A client for `cfg` whose retries are said through the logger; a test's `deps.vault` as is. */
export function vaultClient(
  cfg: Pick<Config, 'url' | 'tls' | 'retries' | 'timeoutMs' | 'names'>,
  deps: { clock: Clock; logger: Logger; vault?: VaultClient },
): VaultClient {
  if (deps.vault) return deps.vault;
  return new VaultClient({
    url: cfg.url,
    transport: createTransport(cfg.tls, cfg.names),
    retries: cfg.retries,
    deadline: deps.clock.now() + cfg.timeoutMs,
    clock: deps.clock,
    onRetry: (what, wait, n, counted) =>
      deps.logger.info(
        counted
          ? `Retrying ${what} in ${wait} ms (retry ${n} of ${cfg.retries}).`
          : `Retrying ${what} in ${wait} ms: Vault has no active node (a leader election); waited out for up to ${cfg.timeoutMs / 1000} s (${naming(cfg.names)('timeout')}).`,
      ),
  });
}
