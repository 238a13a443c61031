// The driver's configuration file: the shared host sections (vault, auth, engine_mount, label) and
// its own `driver` section. Secrets are chosen by each secret's labels, so `registries` has no
// place here.
import { ConfigError } from '../core/errors.js';
import { type HostConfig, loadHostConfig } from '../core/host-config.js';
import { defaultLabel } from '../core/registry-entries.js';
import type { RawInputs } from '../core/validators.js';

export const DEFAULT_CONFIG_FILE = '/etc/vault-docker-login/swarm-driver.yml';
export const PLUGIN_DIR = '/run/docker/plugins';
export const DEFAULT_NAME = 'vault-swarm-secrets';
/**
 * The socket when the file names none. Set by the managed plugin's config.json: the daemon's path
 * to a plugin's socket (/run/docker/plugins/<64-hex id>/<name>) must fit a unix socket address,
 * which the default name does not.
 */
export const SOCKET_ENV = 'VAULT_SWARM_SECRETS_SOCKET';

export interface DriverConfig extends HostConfig {
  socket: string;
}

export async function loadDriverConfig(file: string, env: RawInputs): Promise<DriverConfig> {
  const cfg = await loadHostConfig(file, env, {
    label: 'vault-swarm-secrets',
    registries: {
      refused:
        "is not used by the Swarm driver: each secret's vault.* labels choose its Vault path.",
    },
    hints: {
      unreadable: 'Pass --config <file>, or create it (docs/swarm-driver.md).',
      docs: 'docs/swarm-driver.md',
    },
  });
  const socket =
    cfg.sections.driver.socket ?? env[SOCKET_ENV] ?? `${PLUGIN_DIR}/${DEFAULT_NAME}.sock`;
  if (!/^\/.+\.sock$/.test(socket))
    throw new ConfigError(
      'driver.socket',
      `must be an absolute path ending in .sock, such as ${PLUGIN_DIR}/<name>.sock (the daemon knows the driver as <name>).`,
      `Config file ${file}: key`,
    );
  return { ...cfg, socket, label: cfg.label && defaultLabel([cfg.label]) };
}

/** The name `docker secret create --driver` takes: the socket's file name without `.sock`. */
export function pluginName(socket: string): string {
  return (socket.split('/').pop() ?? '').replace(/\.sock$/, '');
}
