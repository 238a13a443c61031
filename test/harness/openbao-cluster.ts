// Three real `bao server` processes on 127.0.0.1 with integrated Raft storage: initialised,
// unsealed and joined here, stopped (or SIGKILLed) by pid. See DESIGN.md "OpenBao in HA".
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, type Spawned, startProcess, waitFor } from './procs.js';

export interface BaoNode {
  id: string;
  addr: string;
  port: number;
  clusterPort: number;
  /** The running process, or undefined while the node is down. */
  proc?: Spawned;
}

export interface BaoCluster {
  nodes: BaoNode[];
  rootToken: string;
  /** A root-token call to the active node (a standby forwards); throws on any non-2xx. */
  api(method: string, path: string, body?: unknown): Promise<unknown>;
  /** The node whose sys/health answers 200 now (waits up to `timeoutMs` for one). */
  active(timeoutMs?: number): Promise<BaoNode>;
  /** The nodes answering sys/health 429 (unsealed standbys) now. */
  standbys(): Promise<BaoNode[]>;
  /** sys/health's status code per node (0: no answer). */
  health(node: BaoNode): Promise<number>;
  /** SIGKILL: no step-down, no goodbye to the peers. */
  kill(node: BaoNode): void;
  /** Starts a stopped node again with its data, unseals it and waits until it serves. */
  restart(node: BaoNode): Promise<void>;
  /** Stops a node and starts it again without unsealing it: it answers 503 sealed. */
  restartSealed(node: BaoNode): Promise<void>;
  unseal(node: BaoNode): Promise<void>;
  /** Waits until autopilot counts every running node as a healthy voter. */
  voters(timeoutMs?: number): Promise<void>;
  /** The file audit log every node appends to. */
  auditFile: string;
  close(): Promise<void>;
}

const NODES = 3;

function hcl(dir: string, node: BaoNode, peers: BaoNode[], auditFile: string): string {
  const joins = peers
    .filter((p) => p !== node)
    .map((p) => `  retry_join {\n    leader_api_addr = "${p.addr}"\n  }`)
    .join('\n');
  return [
    'storage "raft" {',
    `  path = "${join(dir, 'data')}"`,
    `  node_id = "${node.id}"`,
    // Elections in about 2 s instead of 8-9 s (the default multiplier is 5).
    '  performance_multiplier = 1',
    joins,
    '}',
    'listener "tcp" {',
    `  address = "127.0.0.1:${node.port}"`,
    `  cluster_address = "127.0.0.1:${node.clusterPort}"`,
    '  tls_disable = true',
    '}',
    `api_addr = "${node.addr}"`,
    `cluster_addr = "https://127.0.0.1:${node.clusterPort}"`,
    'disable_mlock = true',
    // OpenBao 2.x enables audit devices only from the config file, the same on every node (a
    // node whose device differs from the replicated table cannot become active).
    'audit "file" "file" {',
    `  options { file_path = "${auditFile}" }`,
    '}',
    '',
  ].join('\n');
}

async function call(
  addr: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const r = await fetch(`${addr}/v1/${path}`, {
    method,
    headers: token ? { 'X-Vault-Token': token } : {},
    body: body === undefined ? undefined : JSON.stringify(body),
    redirect: 'manual',
    signal: AbortSignal.timeout(5000),
  });
  const text = await r.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: r.status, json };
}

export async function startCluster(dir: string): Promise<BaoCluster> {
  const nodes: BaoNode[] = [];
  for (let i = 1; i <= NODES; i++) {
    // freePort keeps port + 1 free too: the cluster listener.
    const port = await freePort();
    nodes.push({ id: `bao-${i}`, port, clusterPort: port + 1, addr: `http://127.0.0.1:${port}` });
  }
  const dirOf = (n: BaoNode) => join(dir, n.id);
  const auditFile = join(dir, 'audit.log');
  for (const n of nodes) {
    mkdirSync(join(dirOf(n), 'data'), { recursive: true, mode: 0o700 });
    writeFileSync(join(dirOf(n), 'config.hcl'), hcl(dirOf(n), n, nodes, auditFile));
  }
  const spawnNode = (n: BaoNode) => {
    n.proc = startProcess('bao', ['server', `-config=${join(dirOf(n), 'config.hcl')}`], {
      PATH: process.env.PATH,
      HOME: dirOf(n),
    });
  };
  const listening = (n: BaoNode) =>
    waitFor(`OpenBao ${n.id} on ${n.addr}`, async () => (await health(n)) !== 0, n.proc);

  async function health(n: BaoNode): Promise<number> {
    try {
      const r = await fetch(`${n.addr}/v1/sys/health`, { signal: AbortSignal.timeout(2000) });
      await r.body?.cancel();
      return r.status;
    } catch {
      return 0;
    }
  }

  for (const n of nodes) spawnNode(n);
  await Promise.all(nodes.map(listening));

  const [first] = nodes as [BaoNode];
  const init = await call(first.addr, 'PUT', 'sys/init', undefined, {
    secret_shares: 1,
    secret_threshold: 1,
  });
  if (init.status !== 200) throw new Error(`bao init: ${init.status} ${JSON.stringify(init.json)}`);
  const { keys_base64: keys, root_token: rootToken } = init.json as {
    keys_base64: string[];
    root_token: string;
  };
  const key = keys[0] ?? '';

  async function unseal(n: BaoNode): Promise<void> {
    // A joiner unseals only once retry_join has reached the leader: repeat the key until it holds.
    await waitFor(
      `OpenBao ${n.id} unsealed`,
      async () => {
        const r = await call(n.addr, 'PUT', 'sys/unseal', undefined, { key });
        return r.status === 200 && (r.json as { sealed?: boolean }).sealed === false;
      },
      n.proc,
      60_000,
    );
    await waitFor(
      `OpenBao ${n.id} serving`,
      async () => [200, 429].includes(await health(n)),
      n.proc,
      60_000,
    );
  }

  async function active(timeoutMs = 30_000): Promise<BaoNode> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const n of nodes) if (n.proc && (await health(n)) === 200) return n;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`No active OpenBao node within ${timeoutMs} ms`);
  }

  async function api(method: string, path: string, body?: unknown): Promise<unknown> {
    const n = await active();
    const r = await call(n.addr, method, path, rootToken, body);
    if (r.status < 200 || r.status >= 300)
      throw new Error(`OpenBao ${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  }

  async function voters(timeoutMs = 60_000): Promise<void> {
    const running = () => nodes.filter((n) => n.proc).map((n) => n.id);
    await waitFor(
      'autopilot: every running node a healthy voter',
      async () => {
        const s = (await api('GET', 'sys/storage/raft/autopilot/state')) as {
          data?: { healthy?: boolean; voters?: string[] };
        };
        const v = s.data?.voters ?? [];
        return s.data?.healthy === true && running().every((id) => v.includes(id));
      },
      undefined,
      timeoutMs,
    );
  }

  await unseal(first);
  await active();
  for (const n of nodes.slice(1)) await unseal(n);

  const cluster: BaoCluster = {
    nodes,
    rootToken,
    api,
    active,
    async standbys() {
      const codes = await Promise.all(nodes.map(health));
      return nodes.filter((_, i) => codes[i] === 429);
    },
    health,
    kill(n) {
      n.proc?.child.kill('SIGKILL');
      n.proc = undefined;
    },
    async restart(n) {
      if (n.proc) throw new Error(`${n.id} is running`);
      spawnNode(n);
      await listening(n);
      await unseal(n);
    },
    // sys/seal on a standby answers 500 "internal error": a restart seals it instead.
    async restartSealed(n) {
      await n.proc?.stop();
      spawnNode(n);
      await listening(n);
    },
    unseal,
    voters,
    auditFile,
    async close() {
      await Promise.all(nodes.map((n) => n.proc?.stop()));
      for (const n of nodes) n.proc = undefined;
    },
  };
  try {
    await voters();
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return cluster;
}
