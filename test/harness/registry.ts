// The real registry (`docker-registry`, htpasswd auth) and the real docker CLI logging in to it.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, run, type Spawned, startProcess, waitFor } from './procs.js';
import type { Registry } from './types.js';

export interface RunningRegistry extends Registry {
  /** Makes `password` the one valid secret of `username` (htpasswd holds one line per user). */
  setUser(username: string, password: string): Promise<void>;
  removeUser(username: string): Promise<void>;
  close(): Promise<void>;
}

async function bcryptLine(username: string, password: string): Promise<string> {
  // -n prints the line instead of writing a file; -i reads the password from stdin.
  const r = await run('htpasswd', ['-niB', '-C', '4', username], { input: password });
  if (r.code !== 0) throw new Error(`htpasswd failed: ${r.stderr}`);
  return r.stdout.trim();
}

export async function startRegistry(
  dir: string,
  initial: { username: string; password: string },
): Promise<RunningRegistry> {
  await mkdir(join(dir, 'storage'), { recursive: true });
  const htpasswd = join(dir, 'htpasswd');
  const lines = new Map<string, string>();
  // Writes are serialised, and a slower bcrypt never overwrites a newer request for the same user.
  let writes = Promise.resolve();
  const latest = new Map<string, number>();
  let seq = 0;
  const flush = () =>
    writeFile(htpasswd, [...lines.values()].map((l) => `${l}\n`).join(''), { mode: 0o600 });

  lines.set(initial.username, await bcryptLine(initial.username, initial.password));
  await flush();

  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log: { level: error, accesslog: { disabled: true } }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'storage')} } }`,
      `http: { addr: "${host}", secret: "${randomBytes(16).toString('hex')}" }`,
      `auth: { htpasswd: { realm: vdl-test, path: ${htpasswd} } }`,
      '',
    ].join('\n'),
  );
  const proc: Spawned = startProcess('docker-registry', ['serve', config], {
    PATH: process.env.PATH,
    HOME: dir,
  });
  await waitFor(
    `docker-registry on ${host}`,
    async () => (await fetch(`http://${host}/v2/`)).status === 401,
    proc,
  );

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
    async setUser(username, password) {
      const mine = ++seq;
      latest.set(username, mine);
      const line = await bcryptLine(username, password);
      if (latest.get(username) !== mine) return;
      writes = writes.then(() => {
        lines.set(username, line);
        return flush();
      });
      await writes;
    },
    async removeUser(username) {
      latest.set(username, ++seq);
      writes = writes.then(() => {
        lines.delete(username);
        return flush();
      });
      await writes;
    },
    close: () => proc.stop(),
  };
}
