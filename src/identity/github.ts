// GitHub's OIDC token, fetched from the runner's endpoint with our own retrying client:
// @actions/core's getIDToken would pull a second HTTP stack into the bundle (see scripts/build.mjs).
import { VdlError } from '../core/errors.js';
import { httpJson, judgeHttp } from '../core/http.js';
import type { IdentityProvider } from '../core/ports.js';
import { type Clock, withRetry } from '../core/retry.js';
import { createTransport } from '../core/transport.js';

export function githubIdentity(
  env: NodeJS.ProcessEnv,
  clock: Clock,
  retries: number,
  onRetry: (waitMs: number, n: number) => void,
): IdentityProvider {
  return {
    audienceHint: (name) =>
      `The runner mints the token for ${name('audience')} (without it, for https://github.com/<owner>).`,
    async getToken(audience, deadline) {
      const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL;
      const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
      if (!requestUrl || !requestToken) {
        throw new VdlError(
          'identity',
          'GitHub gave this job no OIDC token: ACTIONS_ID_TOKEN_REQUEST_URL is not set.',
          'Grant it in the workflow (job or top level):\n  permissions:\n    id-token: write\n    contents: read\n' +
            'Pull requests from forks never receive one.',
        );
      }
      const url = new URL(requestUrl);
      if (audience) url.searchParams.set('audience', audience);
      const transport = createTransport();
      return withRetry(
        async (remainingMs) => {
          const res = await httpJson(transport, {
            method: 'GET',
            url: url.toString(),
            headers: { authorization: `Bearer ${requestToken}` },
            timeoutMs: remainingMs,
          });
          const value = (res.body as { value?: unknown } | undefined)?.value;
          if (res.status === 200 && typeof value === 'string' && value) return value;
          throw Object.assign(
            new VdlError(
              'identity',
              `GitHub's OIDC endpoint answered ${res.status} without a token.`,
            ),
            {
              status: res.status === 200 ? 502 : res.status,
              retryAfter: res.headers['retry-after'],
            },
          );
        },
        judgeHttp,
        { retries, deadline, clock },
        (_e, wait, n) => onRetry(wait, n),
      );
    },
  };
}
