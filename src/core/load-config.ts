// parseConfig plus the `registries` document. The YAML parser is imported only when that input is
// set, so it lands in a separate chunk and single-registry runs never load it.
import { type Config, parseConfig } from './config.js';
import { ConfigError } from './errors.js';
import type { SettingNames } from './setting-names.js';
import type { RawInputs } from './validators.js';
import { parseYaml } from './yaml-text.js';

export function parseRegistries(text: string): Promise<unknown> {
  // A JSON array works as well.
  return parseYaml(
    text,
    (where) =>
      new ConfigError(
        'registries',
        `is not valid YAML${where}; expected a list such as\n  - registry: ghcr.io\n    secret_path: secret/data/ci/ghcr`,
      ),
  );
}

export async function loadConfig(
  raw: RawInputs,
  env: RawInputs = {},
  defaults: { label?: string; names?: SettingNames } = {},
): Promise<Config> {
  const text = raw.registries?.trim();
  const registries = text ? await parseRegistries(text) : undefined;
  return parseConfig(raw, env, { ...defaults, registries });
}
