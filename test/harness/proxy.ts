// A real forward proxy (tinyproxy from Debian) on a random 127.0.0.1 port, with its own config and
// log in a scratch directory, so a test can prove its requests went through the proxy (or not).
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, startProcess, waitFor } from './procs.js';

export interface ForwardProxy {
  /** `http://127.0.0.1:<port>`, for HTTPS_PROXY / HTTP_PROXY. */
  url: string;
  /** What the proxy carried, in order: `GET http://host:port/path` or `CONNECT host:port`. */
  requests(): string[];
  /** The whole log, for leak scans. */
  log(): string;
  stop(): Promise<void>;
}

const REQUEST = /Request \(file descriptor \d+\): (\S+ \S+) HTTP\/1\.[01]/;

export async function startProxy(dir: string): Promise<ForwardProxy> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const port = await freePort();
  const logFile = join(dir, 'tinyproxy.log');
  const conf = join(dir, 'tinyproxy.conf');
  await writeFile(
    conf,
    [
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Timeout 60',
      `LogFile "${logFile}"`,
      // Info logs each request line (never headers, so no Vault token).
      'LogLevel Info',
      'MaxClients 50',
      'Allow 127.0.0.1',
      'DisableViaHeader Yes',
      '',
    ].join('\n'),
  );
  // -d: stay in the foreground, so the harness owns the process.
  const proc = startProcess('tinyproxy', ['-d', '-c', conf], { PATH: process.env.PATH });
  await waitFor(
    `tinyproxy on 127.0.0.1:${port}`,
    () =>
      new Promise((resolve) => {
        const s = connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      }),
    proc,
  );
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () =>
      log()
        .split('\n')
        .map((line) => REQUEST.exec(line)?.[1])
        .filter((r): r is string => r !== undefined),
    log,
    stop: () => proc.stop(),
  };
}
