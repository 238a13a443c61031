// The configuration file: `--config FILE` in the provider's args, else VAULT_DOCKER_LOGIN_CONFIG,
// else /etc/vault-docker-login/config.yml. The shared host sections plus `kubelet:`.
import { readFile } from 'node:fs/promises';
import { VdlError } from '../core/errors.js';
import {
  CONFIG_ENV,
  DEFAULT_CONFIG_FILE,
  type HostConfig,
  parseHostConfig,
} from '../core/host-config.js';
import { parseYaml } from '../core/yaml-text.js';
import { type KubeletSettings, parseSettings } from './settings.js';

export interface ProviderConfig {
  host: HostConfig;
  kubelet: KubeletSettings;
}

export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? env[CONFIG_ENV] ?? DEFAULT_CONFIG_FILE;
}

export async function loadProviderConfig(
  file: string,
  env: NodeJS.ProcessEnv,
  label: string,
): Promise<ProviderConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new VdlError(
      'config',
      `Cannot read the config file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`,
      "Write it (see docs/kubelet-provider.md), or pass its path with args: [--config, FILE] in the kubelet's CredentialProviderConfig.",
    );
  }
  const doc = await parseYaml(
    text,
    (where) =>
      new VdlError(
        'config',
        `The config file ${file} is not valid YAML${where}.`,
        'Fix the YAML; see docs/kubelet-provider.md for an example.',
      ),
  );
  const host = await parseHostConfig(doc, env, { file, extraKeys: ['kubelet'], label });
  return { host, kubelet: parseSettings(host.extra.kubelet, file, host.entries.length) };
}
