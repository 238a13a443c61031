// A CI's token-minting tool (circleci, buildkite-agent): the token comes on stdout, never in argv,
// and is never printed. A failure or an empty answer is retried.
import { VdlError } from '../core/errors.js';
import type { Exec } from '../core/exec.js';
import type { Logger } from '../core/ports.js';
import { type Clock, withRetry } from '../core/retry.js';

export interface ToolDeps {
  exec: Exec;
  clock: Clock;
  retries: number;
  logger: Logger;
}

/** The tool is not on PATH: no retry can help. */
export class ToolMissing extends Error {}

export const FORKS =
  'Likely causes: a pull request from a fork, a CI server without OIDC tokens, or running outside that CI.';

export async function fromTool(
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
