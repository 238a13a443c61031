// Buildkite: `buildkite-agent oidc request-token [--audience A]` prints the JWT on stdout.
import { VdlError } from '../core/errors.js';
import type { IdentityProvider } from '../core/ports.js';
import { FORKS, fromTool, type ToolDeps, ToolMissing } from './tool.js';

export function buildkiteIdentity(d: ToolDeps): IdentityProvider {
  return {
    audienceHint: (name) =>
      `The token is minted with \`buildkite-agent oidc request-token --audience\` for ${name('audience')}.`,
    async getToken(audience, deadline) {
      const args = ['oidc', 'request-token', ...(audience ? ['--audience', audience] : [])];
      try {
        return await fromTool('buildkite-agent', args, FORKS, deadline, d);
      } catch (err) {
        if (err instanceof ToolMissing)
          throw new VdlError(
            'identity',
            'buildkite-agent is not on PATH.',
            'Run this inside a Buildkite job step.',
          );
        throw err;
      }
    },
  };
}
