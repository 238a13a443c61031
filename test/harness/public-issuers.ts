// The CI systems' public OIDC issuers, played by the test issuer, so Vault setup snippets that
// name `https://token.actions.githubusercontent.com` (or CircleCI's, GitLab's, Buildkite's) run
// verbatim. OpenBao gets HTTPS_PROXY pointing here and SSL_CERT_FILE naming this proxy's CA (Go
// honours both). The proxy accepts CONNECT for exactly these hosts, terminates TLS with a
// certificate from that CA, and serves each issuer's discovery document (its `issuer` is the
// public URL) and JWKS (the test issuer's key). Any other host is refused.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { freePort } from './procs.js';
import { makeHostTls } from './tls.js';
import type { PublicIssuerKind, PublicIssuers } from './types.js';

/** Each public issuer: its host, the path of its JWKS, and whether issuers live under /org/<id>. */
const ISSUERS: Record<PublicIssuerKind, { host: string; jwks: string; perOrg?: boolean }> = {
  github: { host: 'token.actions.githubusercontent.com', jwks: '/.well-known/jwks' },
  // CircleCI has one issuer per organization: https://oidc.circleci.com/org/<org-id>.
  circleci: { host: 'oidc.circleci.com', jwks: '/.well-known/jwks-pub.json', perOrg: true },
  gitlab: { host: 'gitlab.com', jwks: '/oauth/discovery/keys' },
  buildkite: { host: 'agent.buildkite.com', jwks: '/.well-known/jwks' },
};

export interface RunningPublicIssuers extends PublicIssuers {
  close(): Promise<void>;
}

export async function startPublicIssuers(
  dir: string,
  testIssuerUrl: string,
): Promise<RunningPublicIssuers> {
  const hosts = Object.values(ISSUERS).map((i) => i.host);
  const tls = await makeHostTls(dir, hosts);
  const seen: string[] = [];
  const sockets = new Set<Socket>();

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = String(req.headers.host ?? '').replace(/:443$/, '');
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    seen.push(`${req.method} https://${host}${path}`);
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
    const spec = Object.values(ISSUERS).find((i) => i.host === host);
    const prefix = spec?.perOrg ? (/^\/org\/[^/]+/.exec(path)?.[0] ?? '') : '';
    if (!spec || (spec.perOrg && !prefix)) return json(404, { message: 'Not Found' });
    const base = `https://${host}${prefix}`;
    const rest = path.slice(prefix.length);
    if (rest === '/.well-known/openid-configuration')
      return json(200, {
        issuer: base,
        jwks_uri: `${base}${spec.jwks}`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
    if (rest === spec.jwks) {
      const keys = await fetch(`${testIssuerUrl}/jwks`);
      return json(keys.status, await keys.json());
    }
    json(404, { message: 'Not Found' });
  }

  const https = createHttpsServer(
    { key: await readFile(tls.keyFile), cert: await readFile(tls.certFile) },
    (req, res) => void serve(req, res).catch(() => res.destroy()),
  );
  const proxy = createServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const [host = '', port = ''] = (req.url ?? '').split(':');
    seen.push(`CONNECT ${req.url}`);
    if (!hosts.includes(host) || port !== '443') {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) socket.unshift(head);
    https.emit('connection', socket);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));

  return {
    proxyUrl: `http://127.0.0.1:${port}`,
    caFile: tls.caFile,
    issuerUrl: (kind, orgId) => {
      const spec = ISSUERS[kind];
      return `https://${spec.host}${spec.perOrg ? `/org/${orgId ?? ''}` : ''}`;
    },
    requests: () => [...seen],
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  };
}
