// A failed GetSecret -> the one-line `Err` the manager receives: what went wrong and what to fix,
// in the driver's terms (labels, its configuration file). Never a value or a token.
import { describe, VaultHttpError, VdlError } from '../core/errors.js';
import { isUnavailable, unwrapMultierror } from '../core/explain.js';
import type { Source } from '../core/registry-entries.js';
import { naming } from '../core/setting-names.js';
import type { Connection } from '../core/vault-connection.js';

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

export function explainFailure(err: unknown, source: Source | undefined, conn: Connection): string {
  if (err instanceof VaultHttpError && source) {
    const { path, method } = source;
    const errors = err.errors.join('; ') || '(no details)';
    if (err.status === 403)
      return oneLine(
        `Vault denied ${method === 'read' ? 'reading' : 'writing'} ${path}${conn.namespace ? ` in namespace "${conn.namespace}"` : ''} (403). ` +
          `The driver's policy must allow it: path "${path}" { capabilities = [${method === 'read' ? '"read"' : '"create", "update"'}] }`,
      );
    if (err.status === 404 || err.status === 405 || /no handler|unsupported/i.test(errors))
      return oneLine(
        `Nothing at ${path} answers a ${method} (HTTP ${err.status}: ${errors}). Check the labels vault.path and vault.method.`,
      );
    if (isUnavailable(err.status)) {
      const name = naming(conn.names);
      return oneLine(
        `Vault at ${conn.url} is unavailable (HTTP ${err.status}: ${errors}) after ${conn.retries} retries within ${conn.timeoutMs / 1000} s. ` +
          `Check Vault's health (sealed, rate-limited, a standby behind), or raise ${name('retries')} or ${name('timeout')} if this is passing; Swarm retries the task.`,
      );
    }
    if (err.status >= 500)
      return oneLine(`The secrets engine at ${path} failed: ${unwrapMultierror(errors)}`);
    return oneLine(
      `Vault refused ${method} ${path} (HTTP ${err.status}: ${errors}). Check the labels vault.path, vault.method, vault.body and vault.wrap.`,
    );
  }
  if (err instanceof VdlError && ['network', 'timeout', 'tls'].includes(err.kind))
    return oneLine(
      `Cannot reach Vault at ${conn.url}: ${err.message} ${err.hint ?? "Check that Vault is up and the driver's vault.url."} Swarm retries the task.`,
    );
  if (err instanceof VdlError) return oneLine(describe(err));
  return oneLine(
    `Internal error in the driver: ${err instanceof Error ? err.message : String(err)}`,
  );
}

/** When Vault refuses the driver's own token rather than the path. */
export function invalidToken(describeAuth: string): VdlError {
  return new VdlError(
    'vault-login',
    `The driver's Vault token (${describeAuth}) is invalid or expired: Vault refused it on auth/token/lookup-self.`,
    'With a token file, check that Vault Agent is running and renewing it; with AppRole or JWT the driver logs in again on the next request.',
  );
}
