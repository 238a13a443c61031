// A JWT in a file, re-read on every use: a Nomad workload identity, a Kubernetes service account
// token or a CI token written to disk are all rotated in place.
import { readFile } from 'node:fs/promises';
import { VdlError } from '../core/errors.js';
import type { IdentityProvider } from '../core/ports.js';
import { jwtFrom } from './jwt-shape.js';

/** `what` names the setting in messages (a CLI flag, a config key). */
export function jwtFileIdentity(file: string, what: string): IdentityProvider {
  return {
    audienceHint: () => `The token in ${what} ${file} carries the audience it was minted for.`,
    async getToken() {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new VdlError(
          'identity',
          `Cannot read ${what} ${file}: ${(err as Error).message}`,
          `Point ${what} at the file holding the identity token (a JWT).`,
        );
      }
      return jwtFrom(text, `${what} ${file}`, 'Write the identity token (a JWT) to that file.');
    },
  };
}
