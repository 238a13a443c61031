// The helper's cache: one JSON file per configuration file, 0600 in this user's private 0700
// directory, holding each registry's credential until shortly before its lease ends, the Vault
// token that minted them. With the file keeper's (auth/file-keeper.ts), the only files holding a
// secret. node:fs only: a cached `get` is served from here without loading anything else.
import { chmodSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import {
  privateDir,
  privateDirPath,
  readPrivateFile,
  uid,
  writePrivateFile,
} from '../core/private-dir.js';

export interface CachedCredential {
  username: string;
  secret: string;
  leaseId?: string;
  /** Epoch ms the credential stops working (its lease, or the token that minted it, ends). */
  endsAt?: number;
  /** Epoch ms after which `get` mints a new one. */
  useUntil: number;
  /** The registry's Vault source and connection it came from; an edit of them replaces it. */
  source: string;
  /** The Vault token that minted it, when this helper logged in for it (so `erase` may revoke it). */
  token?: string;
}

/** A credential replaced while it still works (an edited source, a renewal): `erase` revokes it too. */
export interface RetiredCredential extends CachedCredential {
  key: string;
}

/** A Vault token from a JWT or AppRole login, reused for the next leases. */
export interface CachedToken {
  token: string;
  /** The auth settings and connection it came from; an edit of them means a new login. */
  auth: string;
  issuedAt: number;
  expiresAt?: number;
}

export interface CacheDoc {
  version: 1;
  /** The configuration file this cache belongs to. */
  config: string;
  /** Its stamp when it was last read: `registries` and `entries` are valid under this stamp. */
  stamp: string;
  /** The registry keys it configures, so an unknown registry is answered without parsing it. */
  registries: string[];
  entries: Record<string, CachedCredential>;
  retired: RetiredCredential[];
  vault?: CachedToken;
  /** The last failure per registry, so callers that waited on it share it instead of retrying. */
  failures: Record<string, { at: number; message: string; anonymous: boolean }>;
}

export interface CacheFiles {
  dir: string;
  doc: string;
  lock: string;
}

/** 32-bit FNV-1a: names the file; the document records the full path, so a collision is a miss. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** A cache directory of its own (a CI job's, which its cleanup reads and removes whole). */
export const CACHE_DIR_ENV = 'VAULT_DOCKER_LOGIN_CACHE_DIR';

export function cacheFiles(env: NodeJS.ProcessEnv, configFile: string): CacheFiles {
  const dir = env[CACHE_DIR_ENV] || privateDirPath(env);
  const base = join(dir, `credential-helper-${fnv1a(configFile)}`);
  return { dir, doc: `${base}.json`, lock: `${base}.lock` };
}

export const CACHE_DIR_HINT =
  'Set XDG_RUNTIME_DIR (or TMPDIR, or VAULT_DOCKER_LOGIN_CACHE_DIR) to a directory of your own for the cache, or remove the impostor.';

/** The cache file exists but someone else could have written it. */
const CACHE_UNTRUSTED_HINT =
  'It is not replaced: the leases and token it lists would stay unrevoked. Find out who changed it; once its leases have ended, remove it.';

/**
 * The cache document, or undefined when there is none (or it is not ours to read: a directory
 * another user made is never used, see core/private-dir.ts). A file that is a symlink, not ours or
 * open to others is an error, not a miss: replacing it would orphan what it lists.
 */
export function readCache(files: CacheFiles): CacheDoc | undefined {
  const dir = lstatSync(files.dir, { throwIfNoEntry: false });
  if (!dir?.isDirectory() || dir.uid !== uid()) return undefined;
  // Ours but opened to others: taken back; the file's own checks say whether to trust it.
  if ((dir.mode & 0o077) !== 0) chmodSync(files.dir, 0o700);
  const text = readPrivateFile(files.doc, 'The credential helper cache', CACHE_UNTRUSTED_HINT);
  if (text === undefined) return undefined;
  try {
    const doc = JSON.parse(text) as CacheDoc;
    return doc?.version === 1 ? doc : undefined;
  } catch {
    return undefined;
  }
}

export function writeCache(files: CacheFiles, doc: CacheDoc): void {
  privateDir(files.dir, CACHE_DIR_HINT);
  writePrivateFile(files.doc, `${JSON.stringify(doc)}\n`);
}

export function emptyCache(config: string, stamp: string): CacheDoc {
  return {
    version: 1,
    config,
    stamp,
    registries: [],
    entries: {},
    retired: [],
    failures: {},
  };
}

export type Lookup =
  | { kind: 'hit'; entry: CachedCredential }
  | { kind: 'not-found' }
  | { kind: 'miss' };

/** What the cache can answer for registry `key` under the configuration stamped `stamp`. */
export function lookup(
  doc: CacheDoc | undefined,
  config: string,
  stamp: string,
  key: string,
  now: number,
): Lookup {
  if (!doc || doc.config !== config || doc.stamp !== stamp) return { kind: 'miss' };
  if (!doc.registries.includes(key)) return { kind: 'not-found' };
  const entry = doc.entries[key];
  if (entry && now < entry.useUntil) return { kind: 'hit', entry };
  return { kind: 'miss' };
}

/** Whether the cache holds anything for registry `key` that `erase` would revoke. */
export function held(doc: CacheDoc, key: string): boolean {
  return Boolean(doc.entries[key]) || doc.retired.some((r) => r.key === key);
}
