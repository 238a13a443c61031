// CircleCI: `circleci run oidc get` mints a token with the audience asked for; without one (or
// without the CLI) the job's CIRCLE_OIDC_TOKEN_V2 / CIRCLE_OIDC_TOKEN, whose audience is the org id.
import type { IdentityProvider } from '../core/ports.js';
import { jwtFrom } from './jwt-shape.js';
import { FORKS, fromTool, type ToolDeps, ToolMissing } from './tool.js';

export function circleciIdentity(env: NodeJS.ProcessEnv, d: ToolDeps): IdentityProvider {
  return {
    audienceHint: (name) =>
      `A token for ${name('audience')} is minted with \`circleci run oidc get\`; without it the token is $CIRCLE_OIDC_TOKEN(_V2), whose audience is the organization id.`,
    async getToken(audience, deadline) {
      if (audience) {
        try {
          const claims = JSON.stringify({ aud: audience });
          const args = ['run', 'oidc', 'get', '--claims', claims];
          return await fromTool('circleci', args, FORKS, deadline, d);
        } catch (err) {
          if (!(err instanceof ToolMissing)) throw err;
          d.logger.warn(
            `The circleci CLI is not on PATH, so no token with audience "${audience}" can be minted; using CIRCLE_OIDC_TOKEN_V2 / CIRCLE_OIDC_TOKEN, whose audience is the organization id.`,
          );
        }
      }
      const v2 = env.CIRCLE_OIDC_TOKEN_V2 ? 'CIRCLE_OIDC_TOKEN_V2' : 'CIRCLE_OIDC_TOKEN';
      return jwtFrom(env[v2], `$${v2}`, FORKS);
    },
  };
}
