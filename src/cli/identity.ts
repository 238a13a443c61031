// Which identity the CLI uses: the --identity flag, else the CI it runs in, else VAULT_TOKEN.

import type { IdentityProvider } from '../core/ports.js';
import { buildkiteIdentity } from '../identity/buildkite.js';
import { circleciIdentity } from '../identity/circleci.js';
import { githubIdentity } from '../identity/github.js';
import { gitlabIdentity } from '../identity/gitlab.js';
import { jwtEnvIdentity } from '../identity/jwt-env.js';
import { jwtFileIdentity } from '../identity/jwt-file.js';
import type { ToolDeps } from '../identity/tool.js';
import { UsageError } from './usage.js';

export const IDENTITIES = [
  'github',
  'circleci',
  'gitlab',
  'buildkite',
  'jwt-file',
  'jwt-env',
  'vault-token',
] as const;
export type IdentityName = (typeof IDENTITIES)[number];

export interface IdentityOptions {
  identity?: string;
  jwtFile?: string;
  jwtEnv?: string;
  gitlabTokenVar: string;
}

/** The explicit choice, else the first CI this looks like, else VAULT_TOKEN. */
export function detectIdentity(o: IdentityOptions, env: NodeJS.ProcessEnv): IdentityName {
  if (o.identity) {
    if (!(IDENTITIES as readonly string[]).includes(o.identity))
      throw new UsageError(
        `--identity must be one of ${IDENTITIES.join(', ')}; got "${o.identity}".`,
      );
    return o.identity as IdentityName;
  }
  if (o.jwtFile) return 'jwt-file';
  if (o.jwtEnv) return 'jwt-env';
  if (env.GITHUB_ACTIONS === 'true') return 'github';
  if (env.CIRCLECI === 'true') return 'circleci';
  if (env.GITLAB_CI === 'true') return 'gitlab';
  if (env.BUILDKITE === 'true') return 'buildkite';
  if (env.VAULT_TOKEN) return 'vault-token';
  throw new UsageError(
    'No identity found: not GitHub Actions, CircleCI, GitLab CI or Buildkite, and VAULT_TOKEN is not set. ' +
      `Pass --identity (${IDENTITIES.join(', ')}), --jwt-file or --jwt-env.`,
  );
}

/** Identities whose token is not minted here: an audience flag would be silently ignored. */
export function refuseAudience(name: IdentityName, o: IdentityOptions): void {
  const why: Partial<Record<IdentityName, string>> = {
    gitlab: `GitLab sets the token's audience in the job (id_tokens.${o.gitlabTokenVar}.aud)`,
    'jwt-file': `the token in ${o.jwtFile ?? 'the --jwt-file file'} carries the audience it was minted for`,
    'jwt-env': `the token in $${o.jwtEnv ?? 'the --jwt-env variable'} carries the audience it was minted for`,
    'vault-token': 'there is no JWT login with VAULT_TOKEN',
  };
  const reason = why[name];
  if (reason)
    throw new UsageError(
      `--audience has no effect with the ${name} identity: ${reason}. Remove --audience.`,
    );
}

export function identityProvider(
  name: Exclude<IdentityName, 'vault-token'>,
  o: IdentityOptions,
  env: NodeJS.ProcessEnv,
  d: ToolDeps,
): IdentityProvider {
  switch (name) {
    case 'github':
      return githubIdentity(env, d.clock, d.retries, (wait, n) =>
        d.logger.info(
          `Retrying the GitHub OIDC token request in ${wait} ms (retry ${n} of ${d.retries}).`,
        ),
      );
    case 'circleci':
      return circleciIdentity(env, d);
    case 'gitlab':
      return gitlabIdentity(env, o.gitlabTokenVar);
    case 'buildkite':
      return buildkiteIdentity(d);
    case 'jwt-file':
      if (!o.jwtFile) throw new UsageError('--identity jwt-file needs --jwt-file PATH.');
      return jwtFileIdentity(o.jwtFile, '--jwt-file');
    case 'jwt-env':
      if (!o.jwtEnv) throw new UsageError('--identity jwt-env needs --jwt-env NAME.');
      return jwtEnvIdentity(env, o.jwtEnv);
  }
}
