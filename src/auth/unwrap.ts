// Single-use delivery: look the wrapping token up, check it was made where we expect (a token
// re-wrapped through cubbyhole or sys/wrapping/wrap was handled by someone else), then unwrap.
// Any failure is treated as possible interception: reported, never retried.
import { VaultHttpError, VdlError } from '../core/errors.js';
import type { VaultClient } from '../core/vault.js';

export class WrappingError extends VdlError {
  constructor(message: string, hint: string) {
    super('wrapping', message, hint);
    this.name = 'WrappingError';
  }
}

const ALERT =
  'Treat this as a possible interception: find out who used the token, revoke what it wrapped (for a secret_id: vault write auth/<mount>/role/<name>/secret-id-accessor/destroy), and deliver a new wrapped token.';

export async function unwrapOnce(
  vault: VaultClient,
  wrapToken: string,
  expected: RegExp,
  what: string,
  namespace?: string,
): Promise<Record<string, unknown>> {
  let creationPath: string;
  try {
    ({ creationPath } = await vault.lookupWrapping(wrapToken, namespace));
  } catch (err) {
    if (err instanceof VaultHttpError && err.status === 400)
      throw new WrappingError(
        `The response-wrapping token for ${what} is already used, expired or not a wrapping token (${err.errors.join('; ') || 'HTTP 400'}).`,
        ALERT,
      );
    throw err;
  }
  if (!expected.test(creationPath))
    throw new WrappingError(
      `The response-wrapping token for ${what} was created at "${creationPath}", not at the expected path (${expected.source}).`,
      ALERT,
    );
  let answer: unknown;
  try {
    answer = await vault.unwrap(wrapToken, namespace);
  } catch (err) {
    if (err instanceof VaultHttpError && err.status === 400)
      throw new WrappingError(
        `The response-wrapping token for ${what} was used by someone else between lookup and unwrap.`,
        ALERT,
      );
    throw new WrappingError(
      `Unwrapping ${what} failed: ${(err as Error).message}`,
      'If Vault did unwrap it, the wrapped value is gone: deliver a new wrapped token. If the failure persists, check Vault.',
    );
  }
  const data = (answer as { data?: Record<string, unknown> } | undefined)?.data;
  if (!data) throw new WrappingError(`The unwrapped answer for ${what} carries no data.`, ALERT);
  return data;
}
