// Timing a child process, and the variables that change how Node starts.
import { spawn } from 'node:child_process';

/** Wall time of `cmd args` in `env`, with `input` on stdin; rejects on a non-zero exit. */
export function timed(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  input = '',
): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => {
      err += b;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(performance.now() - t0)
        : reject(new Error(`${cmd} ${args[0] ?? ''} exited ${code}: ${err.trim()}`)),
    );
    child.stdin.end(input);
  });
}

/** What changes a Node process's start (NODE_EXTRA_CA_CERTS alone adds ~90 ms on Node 20). */
export const START_VARS = ['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS', 'NODE_COMPILE_CACHE'] as const;

export function startVars(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(START_VARS.map((k) => [k, env[k] ?? '(unset)']));
}

/** A ratio is honest only when both sides started Node the same way: refuse otherwise. */
export function sameStart(a: NodeJS.ProcessEnv, b: NodeJS.ProcessEnv, what: string): void {
  const [x, y] = [JSON.stringify(startVars(a)), JSON.stringify(startVars(b))];
  if (x !== y)
    throw new Error(`${what}: the step and its floor start Node differently: ${x} vs ${y}`);
}
