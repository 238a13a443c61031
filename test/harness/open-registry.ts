// A second real registry (`docker-registry`) without any auth: anyone pulls and pushes. For the
// registry a credential helper has no entry for, where docker must go on anonymously.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, startProcess, waitFor } from './procs.js';

export interface OpenRegistry {
  /** host:port, plain HTTP. */
  host: string;
  close(): Promise<void>;
}

export async function startOpenRegistry(dir: string): Promise<OpenRegistry> {
  await mkdir(join(dir, 'storage'), { recursive: true });
  const host = `127.0.0.1:${await freePort()}`;
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log: { level: error, accesslog: { disabled: true } }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'storage')} } }`,
      `http: { addr: "${host}", secret: "${randomBytes(16).toString('hex')}" }`,
      '',
    ].join('\n'),
  );
  const proc = startProcess('docker-registry', ['serve', config], {
    PATH: process.env.PATH,
    HOME: dir,
  });
  try {
    await waitFor(
      `open docker-registry on ${host}`,
      async () => (await fetch(`http://${host}/v2/`)).status === 200,
      proc,
    );
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { host, close: () => proc.stop() };
}
