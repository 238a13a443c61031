// The driver process: read the configuration, log in to Vault once (an AppRole wrapping token is
// unwrapped now and its secret_id kept in auth.state_dir, so a restart logs in again; one used by
// someone else, or expired, stops the driver before it serves anything), serve the
// socket, and on SIGTERM or SIGINT finish what is in flight, remove the socket and exit.
import { parseArgs } from 'node:util';
import { authMethod } from '../auth/from-settings.js';
import { ConfigError, describe, VdlError } from '../core/errors.js';
import { CONFIG_ENV } from '../core/host-config.js';
import { createTransport } from '../core/transport.js';
import { VaultClient } from '../core/vault.js';
import { packageVersion } from '../core/version.js';
import { DEFAULT_CONFIG_FILE, loadDriverConfig, pluginName } from './config.js';
import { doctor } from './doctor.js';
import { driverToken } from './driver-token.js';
import { secretHandler } from './get-secret.js';
import { streamLog } from './log.js';
import { servePlugin } from './server.js';

export const EXIT = { ok: 0, failure: 1, usage: 2, interception: 3 } as const;

const USAGE = `Usage: vault-swarm-secrets [doctor] [--config <file>]

A Docker Swarm secrets driver backed by Vault. Serves /Plugin.Activate and
/SecretProvider.GetSecret on driver.socket (default /run/docker/plugins/vault-swarm-secrets.sock).

  doctor           check the configuration, the socket and the Vault login, then exit
  --config <file>  the configuration file (default: $${CONFIG_ENV}, else ${DEFAULT_CONFIG_FILE})
  --help           this text
  --version        the version

See docs/swarm-driver.md for the configuration, the secret labels and a systemd unit.
`;

/** How long requests in flight may run on after SIGTERM. */
const GRACE_MS = 10_000;

export async function main(
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: { err(text: string): void; out(text: string): void },
  signals: Pick<NodeJS.Process, 'once'> = process,
): Promise<number> {
  let file: string;
  const checkOnly = argv[0] === 'doctor';
  try {
    const { values } = parseArgs({
      args: checkOnly ? argv.slice(1) : argv,
      options: {
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.out(USAGE);
      return EXIT.ok;
    }
    if (values.version) {
      io.out(`vault-swarm-secrets (vault-docker-login) ${packageVersion()}\n`);
      return EXIT.ok;
    }
    file = values.config ?? env[CONFIG_ENV] ?? DEFAULT_CONFIG_FILE;
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (checkOnly) return doctor(file, env, io.out);

  const log = streamLog(io.err);
  try {
    const cfg = await loadDriverConfig(file, env);
    const method = authMethod(cfg.auth, { env, namespace: cfg.connection.authNamespace });
    const transport = createTransport(cfg.connection.tls, cfg.connection.names);
    const token = driverToken(method);
    // Log in now: a bad configuration or a used wrapping token is found before serving.
    const started = Date.now();
    const vault = new VaultClient({
      url: cfg.connection.url,
      transport,
      retries: cfg.connection.retries,
      deadline: started + cfg.connection.timeoutMs,
    });
    await token.get(vault, started);
    const getSecret = secretHandler({ cfg, method, token, transport, log });
    const server = await servePlugin(cfg.socket, getSecret);
    log.info('serving', {
      plugin: pluginName(cfg.socket),
      socket: cfg.socket,
      vault: cfg.connection.url,
      auth: method.describe,
    });
    const signal = await new Promise<string>((resolve) => {
      signals.once('SIGTERM', () => resolve('SIGTERM'));
      signals.once('SIGINT', () => resolve('SIGINT'));
    });
    log.info('stopping', { signal });
    await server.close(GRACE_MS);
    await transport.close();
    log.info('stopped', { socket_removed: cfg.socket });
    return EXIT.ok;
  } catch (err) {
    io.err(`error ${describe(err).replace(/\n/g, ' ')}\n`);
    if (err instanceof VdlError && err.kind === 'wrapping') return EXIT.interception;
    return err instanceof ConfigError ? EXIT.usage : EXIT.failure;
  }
}
