// Running a command: the secret goes through stdin only; output is captured, never echoed; the
// child sees only the part of the environment it needs (child-env.ts).
import { childEnv } from './child-env.js';

// node:child_process takes a few ms to load, and docker runs only after the HTTP exchanges: it
// loads on the first turn of the event loop, while the first request is in flight.
let loading: Promise<typeof import('node:child_process')> | undefined;
const childProcess = () => {
  loading ??= import('node:child_process');
  return loading;
};
setImmediate(() => void childProcess());

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type Exec = (
  cmd: string,
  args: string[],
  opts?: { input?: string; env?: NodeJS.ProcessEnv },
) => Promise<ExecResult>;

export const nodeExec: Exec = async (cmd, args, opts = {}) => {
  const { spawn } = await childProcess();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: childEnv(cmd, opts.env ?? process.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
};
