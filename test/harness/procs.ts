// Child processes of the harness: every one carries the run marker (so global teardown can find
// leftovers) and is killed on stop and on process exit.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { CommandResult } from './types.js';

/** Set by global-setup for the whole vitest run; inherited by the workers. */
export const RUN_ENV = 'VDL_HARNESS_RUN';
/** Carried only by processes the harness spawns: `<RUN_ENV>=<run id>` in their environment. */
export const CHILD_ENV = 'VDL_HARNESS_CHILD';

function runId(): string {
  if (!process.env[RUN_ENV]) process.env[RUN_ENV] = `local-${randomBytes(6).toString('hex')}`;
  return process.env[RUN_ENV];
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface Spawned {
  child: ChildProcess;
  /** Combined stdout+stderr so far (the last 8000 characters unless `keepAllOutput`). */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 3000). */
  stop(graceMs?: number): Promise<void>;
}

/** Starts a long-running service process. */
export function startProcess(
  cmd: string,
  args: string[],
  env: Record<string, string | undefined>,
  opts: { keepAllOutput?: boolean } = {},
): Spawned {
  const child = spawn(cmd, args, {
    env: { ...env, [CHILD_ENV]: runId() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  const keep = (b: Buffer) => {
    out += b.toString();
    if (!opts.keepAllOutput) out = out.slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // 'close' comes after the last output is read; 'exit' may come before it.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.once('exit', () => live.delete(child));
  child.once('error', (err) => {
    out += `\n${err.message}`;
  });
  return {
    child,
    output: () => out,
    async stop(graceMs = 3000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // A grandchild may hold the pipes open; its output is not worth waiting long for.
      await Promise.race([closed, new Promise((r) => setTimeout(r, 1000).unref())]);
    },
  };
}

/**
 * Runs a short command to completion, feeding `input` on stdin (secrets go there, never argv).
 * Without input, stdin is /dev/null: bash reads /etc/bash.bashrc when stdin is a socket.
 */
export function run(
  cmd: string,
  args: string[],
  opts: { input?: string; env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...(opts.env ?? process.env), [CHILD_ENV]: runId() },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    live.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr?.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.once('error', (err) => {
      live.delete(child);
      reject(err);
    });
    child.once('close', (code) => {
      live.delete(child);
      resolve({ code, stdout, stderr });
    });
    // A child that exits without reading its stdin must not crash the harness with EPIPE.
    child.stdin?.once('error', () => undefined);
    child.stdin?.end(opts.input);
  });
}

/** Below Linux's ephemeral range (32768-60999), so no outgoing connection's source port takes it. */
const RANGE = { from: 20000, to: 32000 };
const SLICES = 8;

/**
 * Test files run in parallel workers that each start services: each worker picks from its own
 * slice of the range (vitest numbers them in VITEST_POOL_ID), so two workers never pick the same
 * port between one's check and its bind. Elsewhere (demo, sandbox, benchmark) the whole range.
 */
function portRange(): { from: number; to: number } {
  const id = Number(process.env.VITEST_POOL_ID);
  if (!Number.isInteger(id) || id < 1) return RANGE;
  const size = Math.floor((RANGE.to - RANGE.from) / SLICES);
  const from = RANGE.from + ((id - 1) % SLICES) * size;
  return { from, to: from + size };
}

/** Ports handed out by this process: never handed out twice, even before anything binds them. */
const handedOut = new Set<number>();

function tryListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A port that was free a moment ago on 127.0.0.1, for a process we start. Picked at random
 * outside the ephemeral range: a port the kernel handed out (listen on 0) could be taken as the
 * source port of any outgoing connection before the process binds it.
 */
export async function freePort(): Promise<number> {
  const { from, to } = portRange();
  for (;;) {
    // Even ports, each with the next one kept free: OpenBao's dev server also binds port + 1
    // (its cluster listener), which must not be another service's port.
    const port = from + 2 * Math.floor(Math.random() * ((to - from) / 2));
    if (handedOut.has(port)) continue;
    handedOut.add(port).add(port + 1);
    if ((await tryListen(port)) && (await tryListen(port + 1))) return port;
  }
}

/** Polls `check` until it returns true, or throws naming `what` with the process output. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  proc?: Spawned,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc && proc.child.exitCode !== null) break;
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${what} did not become ready.${proc ? `\nOutput:\n${proc.output()}` : ''}`);
}

/** Processes whose environment holds `entry` (`NAME=value`): [pid, command line]. */
export function processesWithEnv(entry: string): [number, string][] {
  const found: [number, string][] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      if (!env.includes(entry)) continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim();
      found.push([Number(pid), cmd]);
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}
