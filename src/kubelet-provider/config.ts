// The configuration file: `--config FILE` in the provider's args, else VAULT_DOCKER_LOGIN_CONFIG,
// else /etc/vault-docker-login/config.yml. The shared host sections plus `kubelet:`.
import {
  CONFIG_ENV,
  DEFAULT_CONFIG_FILE,
  type HostConfig,
  loadHostConfig,
} from '../core/host-config.js';
import { type KubeletSettings, kubeletSettings } from './settings.js';

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
  const host = await loadHostConfig(file, env, {
    label,
    registries: 'required',
    hints: {
      unreadable:
        "Write it (see docs/kubelet-provider.md), or pass its path with args: [--config, FILE] in the kubelet's CredentialProviderConfig.",
      docs: 'docs/kubelet-provider.md',
    },
  });
  return { host, kubelet: kubeletSettings(host.sections.kubelet, file, host.entries.length) };
}
