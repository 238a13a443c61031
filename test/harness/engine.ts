// The Docker Hub secrets engine stand-in: an HTTP proxy in front of OpenBao that serves
// `<mount>/token/<user>/<scope>` and `<mount>/config/<user>` as hoeg/vault-plugin-secrets-dockerhub
// does, keeps the leases, lets OpenBao's ACLs decide (sys/capabilities-self) and forwards
// everything else untouched. Like Vault's core, it response-wraps an issued token on
// `X-Vault-Wrap-TTL` and serves `sys/wrapping/lookup` and `unwrap` for the wrapping tokens it made.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type ServerOptions } from 'node:https';
import { applyFault, FaultList, record } from './faults.js';
import type { EngineStandIn, SeenRequest } from './types.js';

export interface Account {
  password: string;
  scopes: string[];
}

interface Lease {
  id: string;
  namespace: string;
  creator: string;
  username: string;
  uuid: string;
  issued: Date;
  expires: Date;
  timer?: NodeJS.Timeout;
}

export interface EngineOptions {
  baoPort: number;
  /** For what OpenBao's core knows and a caller may not read: a namespace's id. */
  rootToken: string;
  hubUrl: string;
  mount: string;
  accounts: Map<string, Account>;
  port: number;
  tls?: ServerOptions;
}

export interface RunningEngine extends EngineStandIn {
  url: string;
  close(): Promise<void>;
}

interface Wrapped {
  namespace: string;
  answer: Record<string, unknown>;
  creationPath: string;
  creationTime: string;
  ttl: number;
  timer: NodeJS.Timeout;
}

interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

// Vault wraps a backend's error in a go-multierror.
const multi = (msg: string) => `1 error occurred:\n\t* ${msg}\n\n`;
const DENIED = { errors: [multi('permission denied')] };
const NAME = /^\w(?:[\w-.]*\w)?$/;
const SCOPES = ['admin', 'write', 'read', 'public_read'];
const base62 = (n: number) =>
  randomBytes(n * 2)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, n);

/** X-Vault-Wrap-TTL as Vault reads it: seconds, or a duration such as 90s, 5m, 1h. */
function wrapSeconds(header: string | string[] | undefined): number | undefined {
  const m = /^(\d+)([smh]?)$/.exec(String(header ?? '').trim());
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
}

export async function startEngine(o: EngineOptions): Promise<RunningEngine> {
  const leases = new Map<string, Lease>();
  const wrapped = new Map<string, Wrapped>();
  const vaultTokens: string[] = [];
  const faults = new FaultList();
  const requests: SeenRequest[] = [];
  let ttl = 300;

  function upstream(method: string, path: string, headers: IncomingHttpHeaders, body?: Buffer) {
    return new Promise<Upstream>((resolve, reject) => {
      const h = { ...headers, host: `127.0.0.1:${o.baoPort}` };
      if (body) h['content-length'] = String(body.length);
      const up = request({ host: '127.0.0.1', port: o.baoPort, method, path, headers: h }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () =>
          resolve({ status: r.statusCode ?? 502, headers: r.headers, body: Buffer.concat(chunks) }),
        );
        r.on('error', reject);
      });
      up.on('error', reject);
      up.end(body);
    });
  }

  /** Forwards untouched, streaming OpenBao's answer back as it comes. */
  function stream(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: `127.0.0.1:${o.baoPort}` };
      const up = request(
        { host: '127.0.0.1', port: o.baoPort, method: req.method, path: req.url, headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
          r.on('end', resolve);
          r.on('error', reject);
        },
      );
      up.on('error', reject);
      up.end(body);
    });
  }

  /**
   * The caller's capabilities on `path` in namespace `ns`, or OpenBao's answer when it refuses to
   * tell. A token's policies live in its own namespace and reach child namespaces by path prefix,
   * so the question is asked there.
   */
  async function capabilities(
    req: IncomingMessage,
    ns: string,
    path: string,
  ): Promise<string[] | Upstream> {
    const token = { 'x-vault-token': req.headers['x-vault-token'] ?? '' };
    let home = '';
    if (ns) {
      const self = await upstream('GET', '/v1/auth/token/lookup-self', token);
      if (self.status !== 200) return self;
      home = String(JSON.parse(self.body.toString()).data?.namespace_path ?? '').replace(/\/$/, '');
      if (home && ns !== home && !ns.startsWith(`${home}/`)) return [];
    }
    const full = [ns.slice(home.length).replace(/^\//, ''), path].filter(Boolean).join('/');
    const r = await upstream(
      'POST',
      '/v1/sys/capabilities-self',
      {
        ...token,
        ...(home ? { 'x-vault-namespace': home } : {}),
        'content-type': 'application/json',
      },
      Buffer.from(JSON.stringify({ paths: [full] })),
    );
    if (r.status !== 200) return r;
    const caps = JSON.parse(r.body.toString()).data?.[full];
    return Array.isArray(caps) ? caps : [];
  }

  /** A namespace's id: OpenBao ends the id of every lease made in a namespace with `.<id>`. */
  async function namespaceId(ns: string): Promise<string> {
    const cut = ns.lastIndexOf('/');
    const parent = cut < 0 ? {} : { 'x-vault-namespace': ns.slice(0, cut) };
    const r = await upstream('GET', `/v1/sys/namespaces/${ns.slice(cut + 1)}`, {
      'x-vault-token': o.rootToken,
      ...parent,
    });
    if (r.status !== 200) throw new Error(`namespace ${ns}: ${r.status} ${r.body.toString()}`);
    return String(JSON.parse(r.body.toString()).data.id);
  }
  const allowed = (caps: string[], need: string) => caps.includes(need) || caps.includes('root');

  /**
   * A request to the Hub stand-in that fails is sent once more: Go's HTTP transport (the plugin's)
   * resends one that met a kept-alive connection the server had just closed, the one failure an
   * in-process Hub has. A revocation must not fail on that alone.
   */
  async function hubFetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${o.hubUrl}${path}`, init);
    } catch {
      return fetch(`${o.hubUrl}${path}`, init);
    }
  }
  async function hubLogin(username: string, account: Account): Promise<string> {
    const r = await hubFetch('/v2/users/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: account.password }),
    });
    if (r.status !== 200) throw new Error(`authentication failed: ${r.status}`);
    return ((await r.json()) as { token: string }).token;
  }

  /**
   * As the plugin revokes: its account's config, a Docker Hub sign-in, the DELETE, and only a 202
   * counts. Anything else fails the revocation and OpenBao keeps the lease (the token may be dead
   * at Docker Hub all the same).
   */
  async function revokeLease(lease: Lease): Promise<void> {
    const account = o.accounts.get(lease.username);
    if (!account)
      throw new Error(`unable to finde configuration for ${JSON.stringify(lease.username)}`);
    const bearer = await hubLogin(lease.username, account);
    const r = await hubFetch(`/v2/access-tokens/${lease.uuid}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${bearer}` },
    });
    await r.body?.cancel();
    if (r.status !== 202) throw new Error(`failed to delete auth token ${r.status}`);
    clearTimeout(lease.timer);
    leases.delete(lease.id);
  }

  function expireAt(lease: Lease, at: Date) {
    clearTimeout(lease.timer);
    lease.timer = setTimeout(
      () => void revokeLease(lease).catch(() => {}),
      at.getTime() - Date.now(),
    );
    lease.timer.unref();
  }

  async function issue(
    req: IncomingMessage,
    res: ServerResponse,
    m: { ns: string; user: string; scope: string; path: string },
    body: Buffer,
  ): Promise<void> {
    const need = { GET: 'read', DELETE: 'delete', LIST: 'list' }[req.method ?? ''] ?? 'create';
    const caps = await capabilities(req, m.ns, m.path);
    if (!Array.isArray(caps)) return relay(res, caps);
    if (!allowed(caps, need)) return send(res, 403, DENIED);
    if (need !== 'create') return send(res, 405, { errors: [multi('unsupported operation')] });

    const account = o.accounts.get(m.user);
    if (!account) return fail(res, `unable to finde configuration for ${JSON.stringify(m.user)}`);
    if (!account.scopes.includes(m.scope)) {
      return fail(
        res,
        `requested scope ${JSON.stringify(m.scope)} is not permitted for user ${JSON.stringify(m.user)}`,
      );
    }
    let label = '';
    try {
      label = String(JSON.parse(body.toString() || '{}').label ?? '');
    } catch {
      return send(res, 400, { errors: ['failed to parse JSON input: invalid character'] });
    }
    let created: { uuid: string; token: string };
    try {
      const bearer = await hubLogin(m.user, account);
      const r = await hubFetch('/v2/access-tokens', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
        body: JSON.stringify({ token_label: label, scopes: [`repo:${m.scope}`] }),
      });
      if (r.status !== 201) throw new Error(`failed to create auth token: ${r.status}`);
      created = (await r.json()) as { uuid: string; token: string };
    } catch (err) {
      return fail(res, (err as Error).message);
    }

    const token = String(req.headers['x-vault-token'] ?? '');
    const suffix = m.ns ? `.${await namespaceId(m.ns)}` : '';
    const id = `${m.path}/${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x')}${suffix}`;
    const issued = new Date();
    const lease: Lease = {
      id,
      namespace: m.ns,
      creator: token,
      username: m.user,
      uuid: created.uuid,
      issued,
      expires: new Date(issued.getTime() + ttl * 1000),
    };
    leases.set(id, lease);
    expireAt(lease, lease.expires);
    // A lease never outlives the token that created it.
    const self = await upstream('GET', '/v1/auth/token/lookup-self', callerHeaders(req));
    const tokenExpiry =
      self.status === 200 ? JSON.parse(self.body.toString()).data?.expire_time : null;
    if (tokenExpiry && new Date(tokenExpiry) < lease.expires)
      expireAt(lease, new Date(tokenExpiry));

    const answer = {
      request_id: randomUUID(),
      lease_id: id,
      renewable: false,
      lease_duration: ttl,
      data: { token: created.token, uuid: created.uuid, username: m.user, scope: m.scope },
      wrap_info: null,
      warnings: null,
      auth: null,
    };
    const wrapTtl = wrapSeconds(req.headers['x-vault-wrap-ttl']);
    if (wrapTtl) return send(res, 200, wrap(answer, m.ns, m.path, wrapTtl));
    send(res, 200, answer);
  }

  /** As Vault: the answer goes into a single-use token's cubbyhole; the caller gets wrap_info. */
  function wrap(answer: Record<string, unknown>, namespace: string, path: string, ttl: number) {
    const token = `s.${base62(24)}`;
    const creationTime = new Date().toISOString();
    const timer = setTimeout(() => wrapped.delete(token), ttl * 1000);
    timer.unref();
    wrapped.set(token, { namespace, answer, creationPath: path, creationTime, ttl, timer });
    vaultTokens.push(token);
    return {
      request_id: '',
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      data: null,
      wrap_info: {
        token,
        accessor: base62(24),
        ttl,
        creation_time: creationTime,
        creation_path: path,
      },
      warnings: null,
      auth: null,
    };
  }

  /** sys/wrapping/lookup and unwrap for our own wrapping tokens; false when not ours (a used or
   * unknown one goes on to OpenBao, which answers 400 "wrapping token is not valid..."). */
  function wrapOp(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): boolean {
    const op = /^\/v1\/((?:[^/]+\/)*?)sys\/wrapping\/(lookup|unwrap)$/.exec(path);
    if (!op || !['PUT', 'POST'].includes(req.method ?? '')) return false;
    let token = '';
    try {
      token = String(JSON.parse(body.toString() || '{}').token ?? '');
    } catch {
      return false;
    }
    if (!token && op[2] === 'unwrap') token = String(req.headers['x-vault-token'] ?? '');
    const w = wrapped.get(token);
    if (!w || w.namespace !== joinNs(req, op[1])) return false;
    if (op[2] === 'lookup') {
      send(res, 200, {
        request_id: randomUUID(),
        lease_id: '',
        renewable: false,
        lease_duration: 0,
        data: { creation_path: w.creationPath, creation_time: w.creationTime, creation_ttl: w.ttl },
        wrap_info: null,
        warnings: null,
        auth: null,
      });
      return true;
    }
    clearTimeout(w.timer);
    wrapped.delete(token);
    send(res, 200, { ...w.answer, request_id: randomUUID() });
    return true;
  }

  /**
   * `<mount>/config/<user>` as the plugin serves it: a write stores the account's password and
   * allowed scopes under the field `Scope` (capital S; a comma list), nothing else (its `ttl` is
   * accepted and ignored, other fields are ignored); every write is a create (its existence check
   * looks at another storage path); read answers the scopes under `namespace`.
   */
  async function config(
    req: IncomingMessage,
    res: ServerResponse,
    m: { ns: string; user: string; path: string },
    body: Buffer,
  ): Promise<void> {
    const need = { GET: 'read', DELETE: 'delete' }[req.method ?? ''] ?? 'create';
    const caps = await capabilities(req, m.ns, m.path);
    if (!Array.isArray(caps)) return relay(res, caps);
    if (!allowed(caps, need)) return send(res, 403, DENIED);
    if (need === 'delete') {
      o.accounts.delete(m.user);
      res.writeHead(204).end();
      return;
    }
    if (need === 'read') {
      const account = o.accounts.get(m.user);
      if (!account) return fail(res, `unable to finde configuration for ${JSON.stringify(m.user)}`);
      return send(res, 200, {
        request_id: randomUUID(),
        lease_id: '',
        renewable: false,
        lease_duration: 0,
        data: { username: m.user, namespace: account.scopes, ttl: '5m0s' },
        wrap_info: null,
        warnings: null,
        auth: null,
      });
    }
    let fields: Record<string, unknown>;
    try {
      fields = JSON.parse(body.toString() || '{}');
    } catch {
      return send(res, 400, { errors: ['failed to parse JSON input: invalid character'] });
    }
    const raw = fields.Scope ?? [];
    const scopes = (Array.isArray(raw) ? raw.map(String) : String(raw).split(','))
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = scopes.find((s) => !SCOPES.includes(s));
    if (bad !== undefined) return fail(res, `invalid slice provided: ${bad}`);
    o.accounts.set(m.user, { password: String(fields.password ?? ''), scopes });
    res.writeHead(204).end();
  }

  /**
   * sys/leases/revoke-force/<prefix> (sudo): OpenBao still asks the plugin to revoke each lease
   * under the prefix, ignores its failure and forgets the lease: the way out for a lease whose
   * revocation keeps failing. OpenBao is asked too, for its own leases there.
   */
  async function revokeForce(req: IncomingMessage, res: ServerResponse, path: string) {
    const op = /^\/v1\/((?:[^/]+\/)*?)(sys\/leases\/revoke-force\/(.+))$/.exec(path);
    const prefix = op?.[3];
    if (!op?.[2] || !prefix || !['PUT', 'POST'].includes(req.method ?? '')) return false;
    const ns = joinNs(req, op[1]);
    const caps = await capabilities(req, ns, op[2]);
    if (Array.isArray(caps) && !(allowed(caps, 'sudo') && allowed(caps, 'update'))) {
      send(res, 403, DENIED);
      return true;
    }
    if (Array.isArray(caps)) {
      const under = [...leases.values()].filter(
        (l) => l.namespace === ns && l.id.startsWith(prefix),
      );
      await Promise.allSettled(under.map((l) => revokeLease(l)));
      for (const l of under) {
        clearTimeout(l.timer);
        leases.delete(l.id);
      }
    }
    return false;
  }

  /** sys/leases/revoke and sys/leases/lookup for our own leases; false when not ours. */
  async function leaseOp(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    body: Buffer,
  ): Promise<boolean> {
    if (await revokeForce(req, res, path)) return true;
    const op = /^\/v1\/((?:[^/]+\/)*?)(sys\/leases\/(revoke|lookup))(?:\/(.+))?$/.exec(path);
    if (!op || !['PUT', 'POST'].includes(req.method ?? '')) return false;
    let id = op[4] ?? '';
    if (!id) {
      try {
        id = String(JSON.parse(body.toString() || '{}').lease_id ?? '');
      } catch {
        return false;
      }
    }
    const ns = joinNs(req, op[1]);
    const lease = leases.get(id);
    // A namespace's lease id names its namespace (the `.<id>` suffix): OpenBao finds it from any
    // namespace, the caller's ACL there deciding. A root-namespace lease is served from the root.
    if (!lease || (!lease.namespace && ns)) return false;
    const caps = await capabilities(req, ns, `${op[2]}${op[4] ? `/${op[4]}` : ''}`);
    if (!Array.isArray(caps)) {
      relay(res, caps);
      return true;
    }
    if (!allowed(caps, 'update')) {
      send(res, 403, DENIED);
      return true;
    }
    if (op[3] === 'lookup') {
      send(res, 200, {
        request_id: randomUUID(),
        lease_id: '',
        renewable: false,
        lease_duration: 0,
        data: {
          expire_time: lease.expires.toISOString(),
          id: lease.id,
          issue_time: lease.issued.toISOString(),
          last_renewal: null,
          ...(lease.namespace && { namespace_path: `${lease.namespace}/` }),
          path: lease.id.slice(0, lease.id.lastIndexOf('/')),
          renewable: false,
          ttl: Math.max(0, Math.round((lease.expires.getTime() - Date.now()) / 1000)),
        },
        wrap_info: null,
        warnings: null,
        auth: null,
      });
      return true;
    }
    try {
      await revokeLease(lease);
    } catch (err) {
      // OpenBao's answer when the plugin's revoke callback fails.
      const msg = `failed to revoke entry: resp: (*logical.Response)(nil) err: ${(err as Error).message}`;
      send(res, 400, { errors: [msg] });
      return true;
    }
    // As OpenBao: synchronous revocation (the default) answers 204, `"sync": false` 202.
    const sync = !/"sync"\s*:\s*false/.test(body.toString());
    res.writeHead(sync ? 204 : 202).end();
    return true;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    record(requests, req, res);
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const rule = faults.take(method, path);
    if (await applyFault(rule, req, res)) return;
    if (rule?.dropAfterForward) loseAnswer(req, res);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);

    const tok = new RegExp(`^/v1/((?:[^/]+/)*?)(${o.mount}/token/([^/]+)/([^/]+))$`).exec(path);
    if (tok?.[2] && tok[3] && tok[4] && NAME.test(tok[3]) && NAME.test(tok[4])) {
      const m = { ns: joinNs(req, tok[1]), path: tok[2], user: tok[3], scope: tok[4] };
      return issue(req, res, m, body);
    }
    const conf = new RegExp(`^/v1/((?:[^/]+/)*?)(${o.mount}/config/([^/]+))$`).exec(path);
    if (conf?.[2] && conf[3] && NAME.test(conf[3])) {
      const m = { ns: joinNs(req, conf[1]), path: conf[2], user: conf[3] };
      return config(req, res, m, body);
    }
    if (await leaseOp(req, res, path, body)) return;
    if (wrapOp(req, res, path, body)) return;

    const login = /^\/v1\/(?:.+\/)?auth\/.+\/login(\/|$)/.test(path);
    const revokeSelf = /^\/v1\/(?:.+\/)?auth\/token\/revoke-self$/.test(path);
    if (!login && !revokeSelf) return stream(req, res, body);

    const up = await upstream(method, req.url ?? '/', req.headers, body);
    const token = String(req.headers['x-vault-token'] ?? '');
    if (login && up.status === 200) {
      const ct = JSON.parse(up.body.toString()).auth?.client_token;
      if (typeof ct === 'string') vaultTokens.push(ct);
    }
    if (revokeSelf && up.status === 204 && token) {
      // The token is gone whatever the plugin answers; a lease it fails to revoke stays.
      await Promise.allSettled(
        [...leases.values()].filter((l) => l.creator === token).map((l) => revokeLease(l)),
      );
    }
    res.writeHead(up.status, up.headers).end(up.body);
  }

  const listener = (req: IncomingMessage, res: ServerResponse) =>
    void handle(req, res).catch((err: Error) => {
      if (!res.headersSent) send(res, 502, { errors: [`engine stand-in: ${err.message}`] });
      else res.destroy();
    });
  const server: Server = o.tls ? createHttpsServer(o.tls, listener) : createHttpServer(listener);
  await new Promise<void>((resolve) => server.listen(o.port, '127.0.0.1', resolve));

  return {
    url: `${o.tls ? 'https' : 'http'}://127.0.0.1:${o.port}`,
    liveLeases: () => [...leases.keys()],
    setLeaseTtl(seconds) {
      ttl = seconds;
    },
    faults,
    requests,
    vaultTokens: () => [...vaultTokens],
    close: () =>
      new Promise((resolve) => {
        for (const l of leases.values()) clearTimeout(l.timer);
        for (const w of wrapped.values()) clearTimeout(w.timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The request still takes full effect, but its answer is replaced by a dropped connection. */
function loseAnswer(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead = (() => res) as typeof res.writeHead;
  res.write = (() => true) as typeof res.write;
  res.end = (() => {
    req.socket.destroy();
    return res;
  }) as typeof res.end;
}

/** The namespace a request addresses: X-Vault-Namespace, then any namespace prefix of the path. */
function joinNs(req: IncomingMessage, pathPrefix = ''): string {
  const header = String(req.headers['x-vault-namespace'] ?? '');
  return `${header}/${pathPrefix}`.split('/').filter(Boolean).join('/');
}

/** The caller's identity headers, for the stand-in's own questions to OpenBao. */
function callerHeaders(req: IncomingMessage): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const h of ['x-vault-token', 'x-vault-namespace', 'x-vault-request']) {
    if (req.headers[h]) headers[h] = req.headers[h];
  }
  return headers;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

/** OpenBao's own answer as it came: a standby's 307 carries a Location and no body. */
function relay(res: ServerResponse, up: Upstream): void {
  res.writeHead(up.status, up.headers).end(up.body);
}

function fail(res: ServerResponse, msg: string): void {
  send(res, 500, { errors: [multi(msg)] });
}
