// The built single executable, Debian package and managed plugin (npm run build:executables,
// build:deb, build:plugin; scripts/test.sh builds them before the suite), installed where a test
// wants them, and a PATH with no node on it.
import { existsSync, mkdirSync, readdirSync, realpathSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './procs.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const OUT = join(ROOT, 'out');

function built(path: string, script: string): string {
  if (!existsSync(path))
    throw new Error(`${path} is missing: run "npm run ${script}" (scripts/test.sh does).`);
  return path;
}

/** The .deb of package.json's version. */
export function debFile(version: string): string {
  const dir = built(join(OUT, 'deb'), 'build:deb');
  const name = readdirSync(dir).find((f) => f.startsWith(`vault-docker-login_${version}_`));
  return built(join(dir, name ?? `vault-docker-login_${version}_<arch>.deb`), 'build:deb');
}

/** The managed plugin's directory: config.json and rootfs/. */
export const pluginDir = () =>
  built(join(OUT, 'plugin', 'config.json'), 'build:plugin') && join(OUT, 'plugin');

/**
 * A directory holding links to exactly these host tools, for a PATH on which `node` cannot be
 * found (the machine's node lives in /usr/bin beside them).
 */
export async function toolsWithoutNode(dir: string, tools: string[]): Promise<string> {
  mkdirSync(dir, { recursive: true });
  for (const t of tools) {
    const r = await run('sh', ['-c', `command -v ${t}`]);
    if (r.code !== 0) throw new Error(`${t} is not on PATH: run scripts/install-deps.sh`);
    symlinkSync(realpathSync(r.stdout.trim()), join(dir, t));
  }
  return dir;
}

/** Installs the .deb into a root of its own with dpkg --root (its own package database). */
export async function dpkgInstall(root: string, deb: string): Promise<void> {
  for (const d of ['var/lib/dpkg/info', 'var/lib/dpkg/updates'])
    mkdirSync(join(root, d), { recursive: true });
  await run('sh', ['-c', ': > "$1/var/lib/dpkg/status"', 'sh', root]);
  // The root holds no libc6 package: the libraries are the host's own.
  const r = await run('dpkg', [`--root=${root}`, '--force-depends', '--install', deb]);
  if (r.code !== 0) throw new Error(`dpkg --install failed:\n${r.stdout}${r.stderr}`);
}

/** Removes it again, configuration files included. */
export function dpkgPurge(root: string) {
  return run('dpkg', [`--root=${root}`, '--purge', 'vault-docker-login']);
}
