// The plugin's HTTP server on its unix socket: `/Plugin.Activate` and `/SecretProvider.GetSecret`.
// The socket is made owner-only (the daemon connects as root); a stale one left by a crash is
// replaced, a live one is not. Closing waits for requests in flight, then removes the socket if it
// is still ours (a newer driver's socket at the same path is left alone).
import { link, mkdir, stat, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { VdlError } from '../core/errors.js';
import {
  CONTENT_TYPE,
  MANIFEST,
  parseSecretRequest,
  type SecretAnswer,
  type SecretRequest,
} from './protocol.js';

export interface PluginServer {
  /** Stops accepting, lets requests in flight finish (at most `graceMs`), removes the socket. */
  close(graceMs: number): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

/** Names the sockets this process listens on before they are linked into place. */
let serial = 0;

/** True when something accepts connections on the socket. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function clearStale(path: string): Promise<void> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return;
  if (!st.isSocket())
    throw new VdlError(
      'config',
      `${path} (driver.socket) exists and is not a socket.`,
      'Choose another driver.socket, or remove that file.',
    );
  if (await answers(path))
    throw new VdlError(
      'config',
      `Another process already serves ${path} (driver.socket).`,
      'Stop it first, or give this driver another socket (a plugin name is unique per host).',
    );
  await unlink(path);
}

/** Which file is at `path`: its inode and change time (ns); undefined when there is none. */
async function identity(path: string): Promise<string | undefined> {
  const st = await stat(path, { bigint: true }).catch(() => undefined);
  return st && `${st.ino}:${st.ctimeNs}`;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': CONTENT_TYPE }).end(`${JSON.stringify(body)}\n`);
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function servePlugin(
  path: string,
  getSecret: (req: SecretRequest) => Promise<SecretAnswer>,
): Promise<PluginServer> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  await clearStale(path);

  const inFlight = new Set<Promise<void>>();
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const route = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST') return send(res, 405, { Err: 'Plugin calls are POST requests.' });
    const body = await readBody(req);
    if (body === undefined) return send(res, 413, { Err: 'The request body is too large.' });
    if (route === '/Plugin.Activate') return send(res, 200, MANIFEST);
    if (route !== '/SecretProvider.GetSecret')
      return send(res, 404, { Err: `This plugin implements secretprovider only, not ${route}.` });
    const parsed = parseSecretRequest(body || '{}');
    if (typeof parsed === 'string') return send(res, 400, { Err: parsed });
    const answer = await getSecret(parsed);
    // As go-plugins-helpers: an answer carrying Err goes out with status 500.
    send(res, answer.Err ? 500 : 200, answer);
  };
  const server = createServer((req, res) => {
    const p = handle(req, res).catch((err: Error) => {
      if (!res.headersSent) send(res, 500, { Err: `Internal error in the driver: ${err.message}` });
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  });

  // Listened on under a name of its own, then linked into place: Node removes the name it
  // listened on when it closes, and that must not be `path` once a newer driver has taken it over.
  const bound = `${path}.${process.pid}.${++serial}`;
  await unlink(bound).catch(() => {});
  // Owner-only from the moment it exists: no window with a wider mode.
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(bound, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(umask);
  }
  try {
    await link(bound, path);
  } catch (err) {
    server.close();
    throw new VdlError(
      'config',
      `Cannot serve ${path} (driver.socket): ${(err as NodeJS.ErrnoException).code ?? err}.`,
      'Another driver may have started on it just now: stop it first, or give this driver another socket.',
    );
  } finally {
    await unlink(bound).catch(() => {});
  }
  // The inode alone is not enough: a socket made after ours was removed may get its number again.
  const ours = await identity(path);

  return {
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise((r) => {
          timer = setTimeout(r, graceMs);
        }),
      ]);
      clearTimeout(timer);
      server.closeAllConnections();
      await closed;
      // A newer driver may already have taken the path over: remove only our own socket.
      if ((await identity(path)) === ours) await unlink(path).catch(() => {});
    },
  };
}
