// The real registry (`docker-registry`) with token auth, as Docker Hub's registry has, and the real
// docker CLI logging in to it.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, run, type Spawned, startProcess, waitFor } from './procs.js';
import { startTokenService } from './registry-token.js';
import type { Registry } from './types.js';

export interface RunningRegistry extends Registry {
  /** That one secret stops logging in; the user's other secrets stay valid. */
  removeSecret(username: string, secret: string): void;
  /** Bearer tokens the token service issued (for secrets()). */
  issuedTokens(): string[];
  close(): Promise<void>;
}

/** Every action on every repository: for the harness's own user and the static KV user. */
export const ALL_ACTIONS = ['*'];

export async function startRegistry(dir: string): Promise<RunningRegistry> {
  await mkdir(join(dir, 'storage'), { recursive: true });
  const [tokens, port] = await Promise.all([startTokenService(dir), freePort()]);
  const admin = { username: 'vdl-admin', secret: randomBytes(24).toString('base64url') };
  tokens.addSecret(admin.username, admin.secret, ALL_ACTIONS);
  const host = `127.0.0.1:${port}`;
  const config = join(dir, 'config.yml');
  const t = tokens.config;
  await writeFile(
    config,
    [
      'version: 0.1',
      'log: { level: error, accesslog: { disabled: true } }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'storage')} } }`,
      `http: { addr: "${host}", secret: "${randomBytes(16).toString('hex')}" }`,
      `auth: { token: { realm: "${t.realm}", service: ${t.service}, issuer: ${t.issuer}, rootcertbundle: ${t.rootCertBundle} } }`,
      '',
    ].join('\n'),
  );
  const proc: Spawned = startProcess('docker-registry', ['serve', config], {
    PATH: process.env.PATH,
    HOME: dir,
  });
  const stop = async () => {
    await proc.stop();
    await tokens.close();
  };
  try {
    await waitFor(
      `docker-registry on ${host}`,
      async () => (await fetch(`http://${host}/v2/`)).status === 401,
      proc,
    );
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    host,
    async canLogin(username, secret) {
      const cfg = await mkdtemp(join(dir, 'docker-'));
      try {
        const r = await run('docker', ['login', '--username', username, '--password-stdin', host], {
          input: secret,
          env: {
            PATH: process.env.PATH,
            HOME: cfg,
            DOCKER_CONFIG: cfg,
            // No daemon: the CLI then checks the credentials against the registry itself.
            DOCKER_HOST: `unix://${join(cfg, 'no-daemon.sock')}`,
          },
        });
        return r.code === 0;
      } finally {
        await rm(cfg, { recursive: true, force: true });
      }
    },
    admin,
    authRequests: tokens.requests,
    addSecret: tokens.addSecret,
    removeSecret: tokens.removeSecret,
    issuedTokens: tokens.issued,
    close: stop,
  };
}
