// GitLab CI: the job declares `id_tokens: <NAME>: aud: ...`; the runner puts the JWT in $<NAME>.
import type { IdentityProvider } from '../core/ports.js';
import { jwtFrom } from './jwt-shape.js';

export function gitlabIdentity(env: NodeJS.ProcessEnv, variable: string): IdentityProvider {
  return {
    audienceHint: () => `GitLab sets it in the job: id_tokens.${variable}.aud.`,
    getToken: async () =>
      jwtFrom(
        env[variable],
        `$${variable}`,
        `Declare it in the job:\n  id_tokens:\n    ${variable}:\n      aud: <your audience>\nor name another variable with --gitlab-token-var.`,
      ),
  };
}
