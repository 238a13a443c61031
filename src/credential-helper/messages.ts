// What a failed `get` prints: which registry, which configuration, what went wrong and what to do.
import { ConfigError, describe, VaultHttpError, VdlError } from '../core/errors.js';
import { unavailable } from '../core/explain.js';
import type { Connection } from '../core/vault-connection.js';

/** The configuration could not be used: no registry can be served until it is fixed. */
export function configFailure(err: unknown): string {
  const text = describe(err);
  return err instanceof ConfigError
    ? `${text}\nFix the file; docs/credential-helper.md lists every key.`
    : text;
}

/** A failure to obtain the credential of a configured registry. */
export function getFailure(
  err: unknown,
  where: { key: string; file: string; connection: Connection },
): string {
  // A login's 5xx/429/412 reaches here unexplained (the auth methods explain refusals only).
  const down = err instanceof VaultHttpError ? unavailable(err, where.connection) : undefined;
  const unreachable = err instanceof VdlError && (err.kind === 'network' || err.kind === 'timeout');
  const extra =
    unreachable && !err.hint
      ? `\nCheck that Vault at ${where.connection.url} (vault.url) is running and reachable from this host.`
      : '';
  return (
    `No credential for ${where.key} from Vault (configuration ${where.file}): ${describe(down ?? err)}${extra}` +
    (unreachable || down
      ? `\nTo pull without credentials while Vault is unreachable, set credential_helper.on_error: anonymous.`
      : '')
  );
}
