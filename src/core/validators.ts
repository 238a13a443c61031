// The checks one raw input goes through (inputs are strings, as every CI hands them over); each
// rejection names the input and says what is expected.
import { ConfigError } from './errors.js';
import { DOCKER_HUB, registryKey } from './registry-name.js';

export type RawInputs = Record<string, string | undefined>;

/** Reads an input trimmed; an empty one counts as not given. */
export const inputReader = (raw: RawInputs) => (name: string) => {
  const v = raw[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
};

export type Get = ReturnType<typeof inputReader>;

const SEGMENTS = 'letters, digits and . _ - @ : segments joined by single "/"';

/** A Vault path or path segment: no traversal, no query, no whitespace, no leading slash. */
export function pathLike(input: string, value: string): string {
  const bad = (why: string) => new ConfigError(input, `${why}; expected ${SEGMENTS}.`);
  if (value.startsWith('/')) throw bad('must not start with "/"');
  if (/[?#]/.test(value)) throw bad('must not contain "?" or "#"');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
  if (/[\s\u0000-\u001f\u007f]/.test(value))
    throw bad('must not contain whitespace or control characters');
  if (value.split('/').some((s) => s === '..' || s === '.'))
    throw bad('must not contain "." or ".." segments');
  if (value.endsWith('/') || value.includes('//')) throw bad('must not have empty segments');
  return value;
}

export function segment(input: string, value: string): string {
  pathLike(input, value);
  if (value.includes('/'))
    throw new ConfigError(input, `must be a single name without "/"; got "${value}".`);
  return value;
}

export function bool(input: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (/^(true|yes|1)$/i.test(value)) return true;
  if (/^(false|no|0)$/i.test(value)) return false;
  throw new ConfigError(input, `must be true or false; got "${value}".`);
}

export function int(
  input: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
) {
  if (value === undefined || value === '') return fallback;
  // Digits only: Number() would also take "0x2", "1e1" or " 2 ".
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max))
    throw new ConfigError(input, `must be a whole number from ${min} to ${max}; got "${value}".`);
  return n;
}

/** Registry host[:port][/path] or Docker Hub; never a URL with credentials. */
export function registry(value: string | undefined, input = 'registry'): string {
  if (!value) return DOCKER_HUB;
  const host = value.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (!/^[A-Za-z0-9.-]+(:\d+)?(\/[A-Za-z0-9._-]+)*$/.test(host)) {
    throw new ConfigError(
      input,
      `must be a registry host such as ghcr.io or 127.0.0.1:5000; got "${value}".`,
    );
  }
  return registryKey(host) === DOCKER_HUB ? DOCKER_HUB : host;
}

export function fieldName(input: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(value))
    throw new ConfigError(
      input,
      `must be a field name of the secret such as username or access_token (letters, digits, "_" and "-"); got "${value}".`,
    );
  return value;
}
