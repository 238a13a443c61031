// The registry's token service, a stand-in for Docker Hub's auth.docker.io: checks
// `Authorization: Basic` against any number of live secrets per user and answers a short-lived
// RS256 JWT (header x5c) granting the requested repository actions the secret allows.
import { createSign, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { run } from './procs.js';
import type { TokenRequest } from './types.js';

/** The registry's `auth.token` settings: realm (this server), service (aud), issuer, cert file. */
export interface TokenServiceConfig {
  realm: string;
  service: string;
  issuer: string;
  rootCertBundle: string;
}

export interface TokenService {
  config: TokenServiceConfig;
  /**
   * Makes `secret` one more valid secret of `username`, allowed these repository actions (on these
   * repositories only, when given).
   */
  addSecret(username: string, secret: string, actions: string[], repositories?: string[]): void;
  removeSecret(username: string, secret: string): void;
  /** Every bearer token issued so far (for the leak scan). */
  issued(): string[];
  requests: TokenRequest[];
  close(): Promise<void>;
}

/** Docker Hub's lifetime is 300 s; shorter here so a token never outlives a test by much. */
const TOKEN_TTL = 60;
interface Grant {
  actions: string[];
  repositories?: string[];
}
const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');

/** A self-signed RSA certificate: the signing key, and the registry's whole rootcertbundle. */
async function makeSigningCert(
  dir: string,
): Promise<{ key: string; certFile: string; der: string }> {
  const keyFile = join(dir, 'token-signer.key');
  const certFile = join(dir, 'token-signer.pem');
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1'];
  const r = await run(
    'openssl',
    [...args, '-subj', '/CN=vdl-registry-token', '-keyout', keyFile, '-out', certFile],
    { env: { PATH: process.env.PATH, HOME: dir } },
  );
  if (r.code !== 0) throw new Error(`openssl req (token signer) failed: ${r.stderr}`);
  const pem = await readFile(certFile, 'utf8');
  const der = pem.replace(/-----[A-Z ]+-----|\s/g, '');
  return { key: await readFile(keyFile, 'utf8'), certFile, der };
}

/** `type:name:actions` (the name may hold colons, e.g. a port); anything else is ignored. */
function parseScope(scope: string): { type: string; name: string; actions: string[] } | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last <= first) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter(Boolean),
  };
}

function basicAuth(req: IncomingMessage): { username: string; secret: string } | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

export async function startTokenService(dir: string): Promise<TokenService> {
  const signer = await makeSigningCert(dir);
  const secrets = new Map<string, Map<string, Grant>>();
  const issued: string[] = [];
  const requests: TokenRequest[] = [];
  const config = { service: 'vdl-registry', issuer: 'vdl-registry-token' };

  function sign(sub: string, access: { type: string; name: string; actions: string[] }[]) {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [signer.der] }));
    const claims = {
      iss: config.issuer,
      sub,
      aud: config.service,
      exp: now + TOKEN_TTL,
      nbf: now - 1,
      iat: now,
      jti: randomBytes(16).toString('hex'),
      access,
    };
    const body = b64url(JSON.stringify(claims));
    const sig = createSign('RSA-SHA256').update(`${header}.${body}`).sign(signer.key);
    const jwt = `${header}.${body}.${b64url(sig)}`;
    issued.push(jwt);
    return jwt;
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
    // Docker Hub also takes an OAuth2 POST; docker, dockerd and skopeo send GET with Basic, and
    // the token spec tells a client whose POST gets 404 to use GET, so only GET is served.
    if (req.method !== 'GET' || url.pathname !== '/token') {
      return json(404, { details: 'not found' });
    }
    const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' '));
    const seen: TokenRequest = {
      at: Date.now(),
      username: '',
      scopes,
      status: 200,
      granted: [],
      userAgent: req.headers['user-agent'] ?? '',
    };
    requests.push(seen);
    const creds = basicAuth(req);
    let allowed: Grant = { actions: [] };
    if (creds) {
      const found = secrets.get(creds.username)?.get(creds.secret);
      seen.username = creds.username;
      if (!found) {
        seen.status = 401;
        return json(401, { details: 'incorrect username or password' });
      }
      allowed = found;
    }
    // Anonymous requests get a token too, granting nothing (every repository here is private).
    const grant = (a: string) => allowed.actions.includes(a) || allowed.actions.includes('*');
    const access = scopes.flatMap((s) => {
      const p = parseScope(s);
      if (p?.type !== 'repository') return [];
      const repoAllowed = !allowed.repositories || allowed.repositories.includes(p.name);
      return [{ ...p, actions: repoAllowed ? p.actions.filter(grant) : [] }];
    });
    seen.granted = access.map((a) => `${a.type}:${a.name}:${a.actions.join(',')}`);
    const token = sign(creds?.username ?? '', access);
    json(200, {
      token,
      access_token: token,
      expires_in: TOKEN_TTL,
      issued_at: new Date().toISOString(),
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  return {
    config: {
      realm: `http://127.0.0.1:${port}/token`,
      ...config,
      rootCertBundle: signer.certFile,
    },
    addSecret(username, secret, actions, repositories) {
      const mine = secrets.get(username) ?? new Map<string, Grant>();
      mine.set(secret, { actions, repositories });
      secrets.set(username, mine);
    },
    removeSecret(username, secret) {
      secrets.get(username)?.delete(secret);
    },
    issued: () => [...issued],
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
