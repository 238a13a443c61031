// The configuration file as the helper reads it: the shared sections (vault, auth, registries)
// and its own `credential_helper` section. Every key of that section has a default.
import { hostname } from 'node:os';
import { ConfigError } from '../core/errors.js';
import { type HostConfig, ownSection, parseHostConfig } from '../core/host-config.js';
import { readHostConfigFile } from '../core/host-config-file.js';
import { defaultLabel } from '../core/registry-entries.js';
import { type JobSettings, parseJobSettings } from './job-settings.js';
import { DEFAULT_LIFETIMES, type Lifetimes } from './lifetime.js';

export const SECTION = 'credential_helper';

export interface HelperSettings extends Lifetimes {
  /** What a failure for a configured registry answers: an error, or not-found (pull anonymously). */
  onError: 'fail' | 'anonymous';
  /** Serving one CI job: its token in auth.token_file is renewed, and replaced when it died. */
  job?: JobSettings;
}

export interface HelperConfig {
  host: HostConfig;
  settings: HelperSettings;
}

const KEYS = ['on_error', 'renew_before', 'static_ttl', 'job'];

/** Whole seconds, from 0 to a day. */
function seconds(v: unknown, key: string, label: string, fallbackMs: number): number {
  if (v === undefined || v === null) return fallbackMs;
  const text = String(v).trim();
  if (!/^\d+$/.test(text) || Number(text) > 86_400)
    throw new ConfigError(
      `${SECTION}.${key}`,
      `must be whole seconds from 0 to 86400; got "${text}".`,
      label,
    );
  return Number(text) * 1000;
}

export function parseSettings(section: unknown, file: string): HelperSettings {
  const label = `Config file ${file}: key`;
  const raw = ownSection(section, SECTION, KEYS, file);
  const onError = String(raw.on_error ?? 'fail');
  if (onError !== 'fail' && onError !== 'anonymous')
    throw new ConfigError(
      `${SECTION}.on_error`,
      `must be fail (the default: a pull fails with the reason) or anonymous (it goes on without credentials); got "${onError}".`,
      label,
    );
  return {
    onError,
    renewBeforeMs: seconds(
      raw.renew_before,
      'renew_before',
      label,
      DEFAULT_LIFETIMES.renewBeforeMs,
    ),
    staticTtlMs: seconds(raw.static_ttl, 'static_ttl', label, DEFAULT_LIFETIMES.staticTtlMs),
    job: parseJobSettings(raw.job, file),
  };
}

/** Reads and validates the file; every error names the file and the key. */
export async function loadHelperConfig(
  file: string,
  env: NodeJS.ProcessEnv,
): Promise<HelperConfig> {
  const doc = await readHostConfigFile(file);
  const host = await parseHostConfig(doc, env, {
    file,
    extraKeys: [SECTION],
    // The Docker Hub token label, when an entry sets none: which host minted it.
    label: defaultLabel(['docker-credential-vault on', hostname()]),
  });
  const settings = parseSettings(host.extra[SECTION], file);
  if (settings.job && host.auth.method !== 'token_file')
    throw new ConfigError(
      `${SECTION}.job`,
      `needs auth.method token_file (the job's token); got ${host.auth.method}.`,
      `Config file ${file}: key`,
    );
  return { host, settings };
}
