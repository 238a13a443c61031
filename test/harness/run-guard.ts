// What every vitest run of this suite does around its tests, whichever tiers it runs: mark the run,
// and fail it if any process the harness started, or any lease or registry credential, outlives it.
// Each tier's global setup calls guardRun(); they share one guard, and the last teardown checks.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AliveRecord, TALLY_ENV } from './alive-tally.js';
import { CHILD_ENV, processesWithEnv, RUN_ENV } from './procs.js';

/** Processes whose environment carries this run's child marker: [pid, command line]. */
export function markedProcesses(runId: string): [number, string][] {
  return processesWithEnv(`${CHILD_ENV}=${runId}`);
}

/** Sums what each environment found alive when it stopped (see `recordAliveAtStop`). */
function aliveAtStop(dir: string): { leases: number; tokens: number; where: string[] } {
  const sum = { leases: 0, tokens: 0, where: [] as string[] };
  for (const f of readdirSync(dir)) {
    const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as AliveRecord;
    sum.leases += r.leases.length;
    sum.tokens += r.tokens;
    if (r.leases.length + r.tokens > 0) {
      sum.where.push(`  ${r.test}: leases ${r.leases.join(', ') || '-'}; ${r.tokens} token(s)`);
    }
  }
  return sum;
}

async function checkRun(runId: string, tally: string): Promise<void> {
  const alive = aliveAtStop(tally);
  rmSync(tally, { recursive: true, force: true });
  console.log(
    `After the suite: ${alive.leases} lease(s) and ${alive.tokens} registry credential(s) alive.`,
  );
  if (alive.leases + alive.tokens > 0) {
    process.exitCode = 1;
    throw new Error(
      `Leases or registry credentials outlived their test file:\n${alive.where.join('\n')}`,
    );
  }
  // Give processes that are being stopped a moment to go.
  let left = markedProcesses(runId);
  for (let i = 0; i < 20 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    left = markedProcesses(runId);
  }
  if (left.length === 0) return;
  for (const [pid] of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  // vitest reports a teardown error but still exits 0: set the code ourselves.
  process.exitCode = 1;
  throw new Error(
    `Processes started by the test harness were still running after the tests (now killed):\n${left
      .map(([pid, cmd]) => `  pid ${pid}: ${cmd}`)
      .join(
        '\n',
      )}\nA test file is missing \`await env.stop()\` (or \`daemon.stop()\`) in afterAll.`,
  );
}

interface Guard {
  users: number;
  runId: string;
  tally: string;
}

// Each project's global setup is loaded as a module of its own: the shared state lives on the
// process, which they do share.
const KEY = Symbol.for('vault-docker-login.run-guard');
const holder = globalThis as { [KEY]?: Guard };

/** Marks the run (once per process); the returned teardown checks it after the last user. */
export function guardRun(): () => Promise<void> {
  if (!holder[KEY]) {
    const guard = {
      users: 0,
      runId: `run-${randomBytes(8).toString('hex')}`,
      tally: mkdtempSync(join(tmpdir(), 'vdl-tally-')),
    };
    process.env[RUN_ENV] = guard.runId;
    process.env[TALLY_ENV] = guard.tally;
    holder[KEY] = guard;
  }
  const guard = holder[KEY];
  guard.users++;
  return async () => {
    if (--guard.users > 0) return;
    delete holder[KEY];
    await checkRun(guard.runId, guard.tally);
  };
}
