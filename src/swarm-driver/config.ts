// The driver's configuration file: the shared host sections (vault, auth, engine_mount, label) and
// its own `driver` section. Secrets are chosen by each secret's labels, so `registries` has no
// place here.
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../core/errors.js';
import { type HostConfig, parseHostConfig } from '../core/host-config.js';
import { defaultLabel } from '../core/registry-entries.js';
import { pathLike, type RawInputs } from '../core/validators.js';
import { parseYaml } from '../core/yaml-text.js';

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
  engineMount: string;
  /** The Docker Hub token label the configuration sets; else each task's own. */
  label?: string;
}

export async function loadDriverConfig(file: string, env: RawInputs): Promise<DriverConfig> {
  const label = `Config file ${file}: key`;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      '(file)',
      `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}. Pass --config <file> or create it (docs/swarm-driver.md).`,
      label,
    );
  }
  const doc = await parseYaml(
    text,
    (where) => new ConfigError('(file)', `is not valid YAML${where}.`, label),
  );
  const top = (doc ?? {}) as Record<string, unknown>;
  if (top.registries !== undefined)
    throw new ConfigError(
      'registries',
      "is not used by the Swarm driver: each secret's vault.* labels choose its Vault path.",
      label,
    );
  const cfg = await parseHostConfig(doc, env, {
    file,
    extraKeys: ['driver'],
    label: 'vault-swarm-secrets',
    requireRegistries: false,
  });
  const driver = cfg.extra.driver ?? {};
  if (typeof driver !== 'object' || Array.isArray(driver))
    throw new ConfigError('driver', 'must be a mapping such as {socket: ...}.', label);
  const d = driver as Record<string, unknown>;
  for (const k of Object.keys(d))
    if (k !== 'socket')
      throw new ConfigError(`driver.${k}`, 'is not a known key; expected socket.', label);
  const socket = d.socket ?? env[SOCKET_ENV] ?? `${PLUGIN_DIR}/${DEFAULT_NAME}.sock`;
  if (typeof socket !== 'string' || !/^\/.+\.sock$/.test(socket))
    throw new ConfigError(
      'driver.socket',
      `must be an absolute path ending in .sock, such as ${PLUGIN_DIR}/<name>.sock (the daemon knows the driver as <name>).`,
      label,
    );
  const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  const engineMount = str(top.engine_mount ?? top['engine-mount']) ?? 'dockerhub';
  try {
    pathLike('engine_mount', engineMount);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError('engine_mount', err.detail, label);
    throw err;
  }
  const own = str(top.label);
  return {
    ...cfg,
    socket,
    engineMount,
    label: own && defaultLabel([own]),
  };
}

/** The name `docker secret create --driver` takes: the socket's file name without `.sock`. */
export function pluginName(socket: string): string {
  return (socket.split('/').pop() ?? '').replace(/\.sock$/, '');
}
