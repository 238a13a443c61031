// The job's docker config.json: `credHelpers` send each of the job's registries to the `vault`
// helper under the key the docker CLI looks up (exactly host[:port]; Docker Hub under each of its
// spellings); everything else of the user's own config.json is carried over, so other registries'
// logins (`auths`, `credsStore`, `credHelpers`), proxies and plugins keep working.
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { VdlError } from './errors.js';
import { writePrivateFile } from './private-dir.js';
import { DOCKER_HUB, hostOf, registryKey } from './registry-name.js';

/** Every key the docker CLI and other clients (Nomad, skopeo) ask a helper about for Docker Hub. */
export const DOCKER_HUB_KEYS = [
  'https://index.docker.io/v1/',
  'index.docker.io',
  'docker.io',
  'registry-1.docker.io',
];

/** Directories of the user's docker config that hold no credential but tools expect to find. */
const SHARED_DIRS = ['cli-plugins', 'buildx', 'contexts'];

/** The credHelpers keys of one registry (host[:port], the path of `ghcr.io/org` dropped). */
export function helperKeys(registry: string): string[] {
  if (registryKey(registry) === DOCKER_HUB) return DOCKER_HUB_KEYS;
  const host = hostOf(registry);
  return [...new Set([registry.split('/')[0] ?? host, host])];
}

/** The user's docker config directory: DOCKER_CONFIG, else ~/.docker. */
export function userDockerDir(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
}

type Doc = Record<string, unknown>;

function readUserConfig(dir: string): Doc {
  const file = join(dir, 'config.json');
  if (!existsSync(file)) return {};
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Doc) : {};
  } catch (err) {
    throw new VdlError(
      'docker',
      `Cannot read ${file} to carry its other logins over: ${(err as Error).message}.`,
      'Fix or remove that file (DOCKER_CONFIG selects the directory).',
    );
  }
}

/** config.json for the job: the user's, with the job's registries sent to the helper. */
export function jobDockerConfig(user: Doc, registries: string[]): Doc {
  const ours = new Set(registries.map(registryKey));
  const mine = (key: string) => ours.has(registryKey(key));
  const without = (v: unknown): Record<string, unknown> =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Doc).filter(([k]) => !mine(k)))
      : {};
  const helpers = without(user.credHelpers);
  for (const r of registries) for (const k of helperKeys(r)) helpers[k] = 'vault';
  return { ...user, auths: without(user.auths), credHelpers: helpers };
}

/** Writes the job's config.json into `jobDocker`, from the user's config in `userDir`. */
export function writeJobDockerConfig(
  jobDocker: string,
  userDir: string,
  registries: string[],
): void {
  const doc = jobDockerConfig(readUserConfig(userDir), registries);
  writePrivateFile(join(jobDocker, 'config.json'), `${JSON.stringify(doc, null, 2)}\n`);
  for (const sub of SHARED_DIRS)
    if (existsSync(join(userDir, sub))) symlinkSync(join(userDir, sub), join(jobDocker, sub));
}
