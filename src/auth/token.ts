// A Vault token the operator hands over in VAULT_TOKEN: used as is, never revoked.
import { VdlError } from '../core/errors.js';
import type { AuthMethod } from './method.js';

export function envToken(value: string | undefined): AuthMethod {
  return {
    describe: 'VAULT_TOKEN',
    async login() {
      const token = value?.trim();
      if (!token)
        throw new VdlError(
          'config',
          'auth.method is "token" but VAULT_TOKEN is not set.',
          'Set VAULT_TOKEN in the environment of the process that runs this, or choose another auth.method (token_file, jwt, approle).',
        );
      return { token, revocable: false };
    },
  };
}
