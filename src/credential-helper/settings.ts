// The configuration file as the helper reads it: the shared sections (vault, auth, registries)
// and its own `credential_helper` section. Every key of that section has a default.
import { hostname } from 'node:os';
import { ConfigError } from '../core/errors.js';
import { type HostConfig, loadHostConfig, type OwnSections } from '../core/host-config.js';
import { CONFIG_ENV } from '../core/host-config-path.js';
import { defaultLabel } from '../core/registry-entries.js';
import { type JobSettings, jobSettings } from './job-settings.js';
import { DEFAULT_LIFETIMES, type Lifetimes } from './lifetime.js';

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

export function helperSettings(section: OwnSections['credential_helper']): HelperSettings {
  const ms = (s: number | undefined, fallback: number) => (s === undefined ? fallback : s * 1000);
  return {
    onError: section.on_error ?? 'fail',
    renewBeforeMs: ms(section.renew_before, DEFAULT_LIFETIMES.renewBeforeMs),
    staticTtlMs: ms(section.static_ttl, DEFAULT_LIFETIMES.staticTtlMs),
    job: jobSettings(section.job),
  };
}

/** Reads and validates the file; every error names the file and the key. */
export async function loadHelperConfig(
  file: string,
  env: NodeJS.ProcessEnv,
): Promise<HelperConfig> {
  const host = await loadHostConfig(file, env, {
    // The Docker Hub token label, when an entry sets none: which host minted it.
    label: defaultLabel(['docker-credential-vault on', hostname()]),
    registries: 'required',
    hints: {
      unreadable: `Create it, or set ${CONFIG_ENV} to the file to use.`,
      docs: 'docs/credential-helper.md',
    },
  });
  const settings = helperSettings(host.sections.credential_helper);
  if (settings.job && host.auth.method !== 'token_file')
    throw new ConfigError(
      'credential_helper.job',
      `needs auth.method token_file (the job's token); got ${host.auth.method}.`,
      `Config file ${file}: key`,
    );
  return { host, settings };
}
