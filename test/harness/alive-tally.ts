// The suite-wide "nothing left alive" check: each environment writes what was still alive when
// it stopped; the global teardown sums the records and fails the run on any lease or token.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const TALLY_ENV = 'VDL_HARNESS_TALLY';

export interface AliveRecord {
  test: string;
  leases: string[];
  tokens: number;
}

/** The test file that called startEnv, from the call stack (for the failure message). */
export function callerFile(): string {
  const frames = new Error().stack?.split('\n') ?? [];
  const frame = frames.find((f) => /\/test\/e2e\/|\/scripts\//.test(f));
  return frame?.match(/\(?([^()\s]+):\d+:\d+\)?$/)?.[1] ?? 'unknown test file';
}

/** Records what is alive at stop; does nothing outside a vitest run of this suite. */
export function recordAliveAtStop(record: AliveRecord): void {
  const dir = process.env[TALLY_ENV];
  if (!dir) return;
  const name = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`;
  writeFileSync(join(dir, name), JSON.stringify(record));
}
