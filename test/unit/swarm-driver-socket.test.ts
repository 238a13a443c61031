// Where the Swarm driver listens: the file's driver.socket, else VAULT_SWARM_SECRETS_SOCKET (the
// managed plugin's config.json sets it), else the default under /run/docker/plugins.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDriverConfig, SOCKET_ENV } from '../../src/swarm-driver/config.js';

const dir = mkdtempSync(join(tmpdir(), 'vdl-socket-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(driver?: Record<string, unknown>): string {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.yml`);
  const doc = { vault: { url: 'http://127.0.0.1:8200' }, auth: { method: 'token' }, driver };
  writeFileSync(path, JSON.stringify(doc));
  return path;
}
const env = { VAULT_TOKEN: 'unused' };

describe('driver.socket', () => {
  it('defaults to /run/docker/plugins/vault-swarm-secrets.sock', async () => {
    expect((await loadDriverConfig(file(), env)).socket).toBe(
      '/run/docker/plugins/vault-swarm-secrets.sock',
    );
  });

  it(`takes ${SOCKET_ENV} when the file names none`, async () => {
    const plugin = { ...env, [SOCKET_ENV]: '/run/docker/plugins/vault-swarm.sock' };
    expect((await loadDriverConfig(file(), plugin)).socket).toBe(
      '/run/docker/plugins/vault-swarm.sock',
    );
    const own = file({ socket: '/run/docker/plugins/mine.sock' });
    expect((await loadDriverConfig(own, plugin)).socket).toBe('/run/docker/plugins/mine.sock');
  });

  it(`refuses a ${SOCKET_ENV} that is no socket path`, async () => {
    await expect(
      loadDriverConfig(file(), { ...env, [SOCKET_ENV]: 'relative.sock' }),
    ).rejects.toThrow(/driver\.socket/);
  });
});
