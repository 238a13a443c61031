// A JWT in an environment variable the caller names.
import type { IdentityProvider } from '../core/ports.js';
import { jwtFrom } from './jwt-shape.js';

export function jwtEnvIdentity(env: NodeJS.ProcessEnv, name: string): IdentityProvider {
  return {
    audienceHint: () => `The token in $${name} carries the audience it was minted for.`,
    getToken: async () =>
      jwtFrom(env[name], `$${name}`, 'Export the identity token (a JWT) in that variable.'),
  };
}
