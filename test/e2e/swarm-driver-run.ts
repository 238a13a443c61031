// Runs the built Swarm secrets driver (dist/swarm-driver/index.js) as the harness runs its other
// processes, and talks to it over its unix socket as a Swarm manager does.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baoApi, makeToken } from '../harness/approle.js';
import { type Spawned, startProcess, waitFor } from '../harness/procs.js';
import type { TestEnv } from '../harness/types.js';

export const DRIVER = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'dist',
  'swarm-driver',
  'index.js',
);

export interface PluginAnswer {
  status: number;
  contentType: string;
  body: { Value?: string; DoNotReuse?: boolean; Err?: string; Implements?: string[] };
}

/** A POST to the plugin socket, as the daemon's plugin client sends it. */
export function callPlugin(socket: string, route: string, body?: unknown): Promise<PluginAnswer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? '' : `${JSON.stringify(body)}\n`;
    const req = request(
      {
        socketPath: socket,
        path: route,
        method: 'POST',
        headers: {
          accept: 'application/vnd.docker.plugins.v1.2+json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: text ? JSON.parse(text) : {},
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export interface RunningDriver {
  proc: Spawned;
  socket: string;
  output(): string;
  /** `/SecretProvider.GetSecret` with the manager's fields for a task of service `svc`. */
  getSecret(labels: Record<string, string>, task?: string): Promise<PluginAnswer>;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Writes the configuration (JSON is YAML) and returns its path. */
export function driverConfig(dir: string, name: string, doc: unknown): string {
  const file = join(dir, `${name}.yml`);
  writeFileSync(file, JSON.stringify(doc, null, 2), { mode: 0o600 });
  return file;
}

/** Starts the driver and waits until it answers on its socket (or exits). */
export async function startDriver(
  config: string,
  socket: string,
  extraEnv: Record<string, string> = {},
): Promise<RunningDriver> {
  const proc = startProcess(process.execPath, [DRIVER, '--config', config], {
    PATH: process.env.PATH,
    ...extraEnv,
  });
  let all = '';
  proc.child.stderr?.on('data', (b: Buffer) => {
    all += b;
  });
  proc.child.stdout?.on('data', (b: Buffer) => {
    all += b;
  });
  await waitFor(
    `the driver on ${socket}`,
    async () => (await callPlugin(socket, '/Plugin.Activate')).status === 200,
    proc,
  );
  let n = 0;
  return {
    proc,
    socket,
    output: () => all,
    getSecret: (labels, task = `web.${++n}.task${n}`) =>
      callPlugin(socket, '/SecretProvider.GetSecret', {
        SecretName: 'app-secret',
        SecretLabels: labels,
        ServiceID: 'svc0001',
        ServiceName: 'web',
        TaskID: task.split('.').pop(),
        TaskName: task,
        TaskImage: 'local/busybox:1',
        NodeID: 'node0001',
        ServiceEndpointSpec: {},
      }),
    async stop() {
      const exited = new Promise<number | null>((resolve) => {
        if (proc.child.exitCode !== null) resolve(proc.child.exitCode);
        else proc.child.once('exit', (code) => resolve(code));
      });
      await proc.stop();
      return exited;
    },
  };
}

/** Revokes every lease still alive at the engine with the root token; returns how many. */
export async function revokeLiveLeases(env: TestEnv): Promise<number> {
  const ids = env.engine.liveLeases();
  for (const id of ids) {
    const r = await fetch(`${env.vaultAddr}/v1/sys/leases/revoke`, {
      method: 'PUT',
      headers: { 'X-Vault-Token': env.rootToken },
      body: JSON.stringify({ lease_id: id }),
    });
    if (!r.ok) throw new Error(`revoking ${id}: ${r.status} ${await r.text()}`);
  }
  return ids.length;
}

export const DRIVER_POLICY = 'swarm-driver';

export interface DriverVault {
  dir: string;
  /** The KV v2 secret at secret/data/swarm/app. */
  kv: { password: string; port: number };
  /** The driver's token (policy swarm-driver), as Vault Agent would keep it in its sink file. */
  token: string;
  tokenFile: string;
}

/**
 * The driver's policy (engine tokens of the main account, KV under secret/data/swarm/ and the
 * static registry credential, lease revocation), a KV secret, and a token file holding a token.
 */
export async function prepareDriverVault(env: TestEnv, name: string): Promise<DriverVault> {
  const dir = join(env.tmpDir, name);
  mkdirSync(dir, { recursive: true });
  const { engineMount, account, kvMount, kvPath } = env.fixtures;
  const rules: [string, string][] = [
    [`${engineMount}/token/${account}/*`, '["create", "update"]'],
    [`${kvMount}/data/swarm/*`, '["read"]'],
    [`${kvMount}/data/${kvPath}`, '["read"]'],
    [`sys/leases/revoke/${engineMount}/token/${account}/*`, '["update"]'],
  ];
  await baoApi(env, 'PUT', `sys/policies/acl/${DRIVER_POLICY}`, {
    policy: rules.map(([p, c]) => `path "${p}" { capabilities = ${c} }`).join('\n'),
  });
  const kv = { password: randomBytes(18).toString('base64url'), port: 5432 };
  await baoApi(env, 'POST', `${kvMount}/data/swarm/app`, { data: kv });
  const token = await makeToken(env, [DRIVER_POLICY], '1h');
  const tokenFile = join(dir, 'agent-token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  return { dir, kv, token, tokenFile };
}

/** A config.json fragment's one entry -> user and secret. */
export function authOf(configJson: string, key: string): { user: string; secret: string } {
  const auth = JSON.parse(configJson).auths[key].auth as string;
  const plain = Buffer.from(auth, 'base64').toString('utf8');
  const i = plain.indexOf(':');
  return { user: plain.slice(0, i), secret: plain.slice(i + 1) };
}
