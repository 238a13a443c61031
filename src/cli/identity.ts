// Where the CLI's identity comes from: each CI's OIDC token, a file, a variable, or VAULT_TOKEN.
// Helper tools print the token on stdout; it is never in argv and never printed.
import { readFile } from 'node:fs/promises';
import { VdlError } from '../core/errors.js';
import type { Exec } from '../core/exec.js';
import { type Clock, withRetry } from '../core/retry.js';
import type { IdentityProvider, Logger } from '../core/session.js';
import { githubIdentity } from '../github/identity.js';
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

const JWT = /^[\w-]+\.[\w-]+\.[\w-]*$/;

/** A token from a variable or file; checked for shape without ever showing it. */
function jwtFrom(value: string | undefined, where: string, hint: string): string {
  const token = value?.trim();
  if (!token)
    throw new VdlError('identity', `No identity token: ${where} is empty or not set.`, hint);
  if (!JWT.test(token))
    throw new VdlError(
      'identity',
      `${where} does not hold a JWT (three base64url parts joined by ".").`,
      hint,
    );
  return token;
}

interface ToolDeps {
  exec: Exec;
  clock: Clock;
  retries: number;
  logger: Logger;
}

class ToolMissing extends Error {}

/** Runs a token-minting tool, retrying a failure or an empty answer. */
async function fromTool(
  tool: string,
  args: string[],
  hint: string,
  deadline: number,
  d: ToolDeps,
): Promise<string> {
  return withRetry(
    async () => {
      let res: Awaited<ReturnType<Exec>>;
      try {
        res = await d.exec(tool, args);
      } catch {
        throw new ToolMissing(tool);
      }
      const token = res.stdout.trim();
      if (res.code === 0 && token) return token;
      // Only the first line of stderr: enough to say why, and tools do not print the token there.
      const last = res.stderr.trim().split('\n')[0] ?? '';
      throw new VdlError(
        'identity',
        `\`${tool} ${args.slice(0, 3).join(' ')}\` returned no token (exit ${res.code}${last ? `: ${last}` : ''}).`,
        hint,
      );
    },
    (err) => ({ retry: !(err instanceof ToolMissing) }),
    { retries: d.retries, deadline, clock: d.clock },
    (_e, wait, n) =>
      d.logger.info(
        `Retrying ${tool} for an OIDC token in ${wait} ms (retry ${n} of ${d.retries}).`,
      ),
  );
}

const FORKS =
  'Likely causes: a pull request from a fork, a CI server without OIDC tokens, or running outside that CI.';

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
      return {
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
    case 'gitlab':
      return {
        getToken: async () =>
          jwtFrom(
            env[o.gitlabTokenVar],
            `$${o.gitlabTokenVar}`,
            `Declare it in the job:\n  id_tokens:\n    ${o.gitlabTokenVar}:\n      aud: <your audience>\nor name another variable with --gitlab-token-var.`,
          ),
      };
    case 'buildkite':
      return {
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
    case 'jwt-file':
      return {
        async getToken() {
          const file = o.jwtFile ?? '';
          if (!file) throw new UsageError('--identity jwt-file needs --jwt-file PATH.');
          let text: string;
          try {
            text = await readFile(file, 'utf8');
          } catch (err) {
            throw new VdlError(
              'identity',
              `Cannot read --jwt-file ${file}: ${(err as Error).message}`,
            );
          }
          return jwtFrom(
            text,
            `--jwt-file ${file}`,
            'Write the CI identity token (a JWT) to that file.',
          );
        },
      };
    case 'jwt-env':
      return {
        async getToken() {
          const name = o.jwtEnv ?? '';
          if (!name) throw new UsageError('--identity jwt-env needs --jwt-env NAME.');
          return jwtFrom(
            env[name],
            `$${name} (--jwt-env)`,
            'Export the CI identity token (a JWT) in that variable.',
          );
        },
      };
  }
}
