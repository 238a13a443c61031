// A token file kept fresh by Vault Agent (its file sink): re-read on every login, never revoked
// (the Agent owns it).
import { readFile } from 'node:fs/promises';
import { VdlError } from '../core/errors.js';
import type { AuthMethod } from './method.js';

export function tokenFile(path: string): AuthMethod {
  return {
    describe: `token file ${path}`,
    async login() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        throw new VdlError(
          'config',
          `Cannot read the Vault token file ${path} (auth.token_file): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`,
          'Check that Vault Agent runs with a file sink at that path and that this user may read it.',
        );
      }
      const token = text.trim();
      if (!token)
        throw new VdlError(
          'config',
          `The Vault token file ${path} (auth.token_file) is empty.`,
          'Vault Agent writes it after its first successful auto-auth: check the agent is running and logged in.',
        );
      return { token, revocable: false };
    },
  };
}
