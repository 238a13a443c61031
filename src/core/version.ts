// The package's version, read at run time from the package.json two levels up (dist/<bin>/ and
// src/core/ alike), so a version bump never makes the bundles stale. The single executable has no
// package.json: scripts/build-executables.mjs puts the version in at build time instead.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageVersion(): string {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string })
    .version;
}
