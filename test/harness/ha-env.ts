// startHaEnv(): the test environment of startEnv() with a 3-node OpenBao Raft cluster in place of
// the dev server. The engine stand-in fronts one node (`front`, a standby at start), as a client
// configured with one node's address reaches the cluster; clients may also use any node directly.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callerFile, recordAliveAtStop } from './alive-tally.js';
import { type Account, startEngine } from './engine.js';
import { startHub } from './hub.js';
import { fixtures } from './index.js';
import { startIssuer } from './issuer.js';
import { configureBao, type RunningBao } from './openbao.js';
import { type BaoCluster, type BaoNode, startCluster } from './openbao-cluster.js';
import { freePort } from './procs.js';
import { startRegistry } from './registry.js';
import type { TestEnv } from './types.js';

export interface HaEnv extends TestEnv {
  cluster: BaoCluster;
  /** The node behind the engine stand-in (env.vaultAddr) and env.baoAddr (a TCP relay to it). */
  front(): BaoNode;
  /** Points the relay at another node; open connections to the old one are cut. */
  setFront(node: BaoNode): void;
  /** OpenBao's own leases alive (token leases of logins included), and the stand-in's. */
  leasesAlive(): Promise<string[]>;
  /** Accessors of the tokens alive other than the root token's. */
  tokensAlive(): Promise<string[]>;
  /** Each alive token but root's: its auth path, role and how long ago it was made. */
  describeTokens(): Promise<string[]>;
  /** Revokes, as root, every token but root's (and so their leases) and the stand-in's leases. */
  sweep(): Promise<void>;
  /** Requests OpenBao logged (response entries of every node's audit log). */
  auditedRequests(): Promise<number>;
}

interface TokenData {
  path?: string;
  meta?: Record<string, string> | null;
  creation_time?: number;
}

const secret = () => randomBytes(24).toString('base64url');
const b64 = (user: string, pass: string) => Buffer.from(`${user}:${pass}`).toString('base64');

async function list(cluster: BaoCluster, path: string): Promise<string[]> {
  try {
    const r = (await cluster.api('LIST', path)) as { data?: { keys?: string[] } };
    return r.data?.keys ?? [];
  } catch (err) {
    if (/: 404 /.test((err as Error).message)) return [];
    throw err;
  }
}

/** Every lease id under `prefix`, depth first (LIST sys/leases/lookup/<prefix>). */
async function leasesUnder(cluster: BaoCluster, prefix: string): Promise<string[]> {
  const keys = await list(cluster, `sys/leases/lookup/${prefix}`);
  const found = await Promise.all(
    keys.map((k) =>
      k.endsWith('/') ? leasesUnder(cluster, `${prefix}${k}`) : Promise.resolve([`${prefix}${k}`]),
    ),
  );
  return found.flat();
}

export async function startHaEnv(): Promise<HaEnv> {
  const fx = fixtures;
  const caller = callerFile();
  const tmpDir = await mkdtemp(join(tmpdir(), 'vdl-ha-'));
  const removeTmp = () => rmSync(tmpDir, { recursive: true, force: true });
  process.once('exit', removeTmp);
  const closers: (() => Promise<void>)[] = [];
  const secretSources: (() => string[])[] = [];
  const secrets = () => secretSources.flatMap((s) => s());
  let alive: () => Promise<{ leases: string[]; tokens: number }> = async () => ({
    leases: [],
    tokens: 0,
  });
  const stop = async () => {
    const left = await alive().catch((err: Error) => ({ leases: [err.message], tokens: 0 }));
    recordAliveAtStop({ test: caller, ...left });
    const closed = await Promise.allSettled(closers.reverse().map((c) => c()));
    closers.length = 0;
    await rm(tmpDir, { recursive: true, force: true });
    process.off('exit', removeTmp);
    const failure = closed.find((c) => c.status === 'rejected');
    if (failure) throw failure.reason;
  };

  try {
    const kvPassword = secret();
    const accounts = new Map<string, Account>([
      [fx.account, { password: secret(), scopes: ['read', 'write', 'admin', 'public_read'] }],
      [fx.accountNoAdmin, { password: secret(), scopes: ['read', 'write', 'public_read'] }],
    ]);
    const [issuerPort, hubPort, enginePort, relayPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const issuer = await startIssuer(fx, issuerPort);
    closers.push(issuer.close);
    secretSources.push(() => issuer.minted());
    const [cluster, registry] = await Promise.all([
      startCluster(join(tmpDir, 'bao')),
      startRegistry(join(tmpDir, 'registry')),
    ]);
    closers.push(
      () => cluster.close(),
      () => registry.close(),
    );
    secretSources.push(
      () => [cluster.rootToken, kvPassword, b64(fx.kvUsername, kvPassword)],
      () => [registry.admin.secret, b64(registry.admin.username, registry.admin.secret)],
      () => registry.issuedTokens(),
    );
    registry.addSecret(fx.kvUsername, kvPassword, ['pull', 'push']);
    const [standby] = await cluster.standbys();
    if (!standby) throw new Error('The cluster has no standby');
    let front = standby;
    const relay = await startRelay(relayPort, front.port);
    closers.push(relay.close);
    const relayAddr = `http://127.0.0.1:${relayPort}`;

    // The dev server mounts KV v2 at secret/; a server started from a config file mounts nothing.
    await cluster.api('POST', `sys/mounts/${fx.kvMount}`, {
      type: 'kv',
      options: { version: '2' },
    });
    const asBao: RunningBao = {
      addr: relayAddr,
      port: relayPort,
      rootToken: cluster.rootToken,
      api: (m, p, b) => kvUpgraded(() => cluster.api(m, p, b)),
      close: async () => undefined,
    };
    await configureBao(asBao, fx, issuer.url, kvPassword);

    const passwords = new Map([...accounts].map(([u, a]) => [u, a.password]));
    const hub = await startHub(passwords, registry, hubPort);
    closers.push(hub.close);
    secretSources.push(() => hub.issued().flatMap((t) => [t.token, b64(t.username, t.token)]));
    const engine = await startEngine({
      baoPort: relayPort,
      hubUrl: hub.url,
      mount: fx.engineMount,
      accounts,
      rootToken: cluster.rootToken,
      port: enginePort,
    });
    closers.push(engine.close);
    secretSources.push(() => engine.vaultTokens());

    const leasesAlive = async () => [
      ...(await leasesUnder(cluster, '')),
      ...engine.liveLeases().map((id) => `${id} (engine stand-in)`),
    ];
    const rootAccessor = (
      (await cluster.api('GET', 'auth/token/lookup-self')) as { data: { accessor: string } }
    ).data.accessor;
    /** Each accessor but root's with its token's lookup; undefined when the lookup is refused. */
    const lookups = async () =>
      Promise.all(
        (await list(cluster, 'auth/token/accessors'))
          .filter((a) => a !== rootAccessor)
          .map(async (accessor) => ({
            accessor,
            data: await cluster
              .api('POST', 'auth/token/lookup-accessor', { accessor })
              .then((r) => (r as { data: TokenData }).data)
              .catch((err: Error) => {
                // An accessor listed a moment before its token's revocation finished.
                if (/: (400|403) /.test(err.message)) return undefined;
                throw err;
              }),
          })),
      );
    const tokensAlive = async () => (await lookups()).filter((l) => l.data).map((l) => l.accessor);
    alive = async () => ({
      leases: await leasesAlive(),
      tokens: (await tokensAlive()).length + hub.liveTokens().length,
    });

    return {
      vaultAddr: engine.url,
      baoAddr: relayAddr,
      rootToken: cluster.rootToken,
      issuer,
      engine,
      hub,
      registry,
      fixtures: fx,
      secrets,
      async vaultTokenAlive(token) {
        const r = await fetch(`${(await cluster.active()).addr}/v1/auth/token/lookup-self`, {
          headers: { 'X-Vault-Token': token },
        });
        await r.body?.cancel();
        return r.status === 200;
      },
      tmpDir,
      stop,
      cluster,
      front: () => front,
      setFront(node) {
        front = node;
        relay.retarget(node.port);
      },
      leasesAlive,
      tokensAlive,
      async describeTokens() {
        return (await lookups()).flatMap(({ data }) =>
          data
            ? [
                `${data.path} (role ${data.meta?.role ?? '-'}, made ${Math.round(Date.now() / 1000 - (data.creation_time ?? 0))} s ago)`,
              ]
            : [],
        );
      },
      async sweep() {
        // The engine stand-in keeps its leases itself: revoke them through it, as root.
        for (const id of engine.liveLeases()) {
          const r = await fetch(`${engine.url}/v1/sys/leases/revoke`, {
            method: 'PUT',
            headers: { 'X-Vault-Token': cluster.rootToken },
            body: JSON.stringify({ lease_id: id }),
          });
          await r.body?.cancel();
        }
        // A token revoked meanwhile (its parent's revocation, its TTL) answers "token not found".
        await Promise.all(
          (await tokensAlive()).map((accessor) =>
            cluster.api('POST', 'auth/token/revoke-accessor', { accessor }).catch((err: Error) => {
              if (!err.message.includes('token not found')) throw err;
            }),
          ),
        );
      },
      async auditedRequests() {
        const text = await readFile(cluster.auditFile, 'utf8').catch(() => '');
        return text.split('\n').filter((l) => l.includes('"type":"response"')).length;
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * A TCP relay to one node, switchable: what a client configured with one node's address (or a
 * load balancer pinned to one node) reaches, as the engine stand-in's upstream.
 */
async function startRelay(port: number, target: number) {
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const up = connect(target, '127.0.0.1');
    open.add(client).add(up);
    const end = () => {
      client.destroy();
      up.destroy();
      open.delete(client);
      open.delete(up);
    };
    client.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
    client.pipe(up).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    retarget(to: number) {
      target = to;
      for (const s of open) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A KV v2 mount upgrades itself for a moment after it is enabled: writes wait for that. */
async function kvUpgraded<T>(call: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await call();
    } catch (err) {
      if (i > 100 || !/upgrad/i.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
