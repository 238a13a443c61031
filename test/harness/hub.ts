// Docker Hub API stand-in: users/login and access-tokens, where each live token is one more valid
// secret of its account at the real registry's token service, until it is deleted.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { RunningRegistry } from './registry.js';
import type { HubStandIn } from './types.js';

interface HubToken {
  uuid: string;
  username: string;
  label: string;
  scopes: string[];
  token: string;
}

/**
 * What a Docker Hub access-token scope lets a token do on a private repository (every repository
 * in the test registry is private, so `repo:public_read` allows nothing there).
 */
const ACTIONS: Record<string, string[]> = {
  'repo:admin': ['pull', 'push', 'delete'],
  'repo:write': ['pull', 'push'],
  'repo:read': ['pull'],
  'repo:public_read': [],
};

export interface RunningHub extends HubStandIn {
  /** Every access token ever issued, with its account (for secrets()). */
  issued(): { username: string; token: string }[];
  close(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString() || '{}');
  } catch {
    return {};
  }
}

export async function startHub(
  accounts: Map<string, string>,
  registry: RunningRegistry,
  port: number,
): Promise<RunningHub> {
  const sessions = new Map<string, string>(); // bearer -> username
  const live = new Map<string, HubToken>();
  const issued: { username: string; token: string }[] = [];
  // 202, the one status the plugin takes as deleted; Docker Hub's API reference documents 204.
  let deleteStatus = 202;

  const server = createServer(async (req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const json = (status: number, body?: unknown) => {
      res.writeHead(status, body === undefined ? {} : { 'Content-Type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (req.method === 'POST' && path === '/v2/users/login') {
      const { username, password } = await readJson(req);
      if (typeof username !== 'string' || accounts.get(username) !== password) {
        return json(401, { detail: 'Incorrect authentication credentials', message: '' });
      }
      const token = randomBytes(24).toString('base64url');
      sessions.set(token, username);
      return json(200, { token });
    }
    const bearer = (req.headers.authorization ?? '').replace(/^Bearer /i, '');
    const user = sessions.get(bearer);
    if (!user) return json(401, { detail: 'Authentication credentials were not provided.' });
    if (req.method === 'POST' && path === '/v2/access-tokens') {
      const body = await readJson(req);
      const scopes = Array.isArray(body.scopes) ? body.scopes.map(String) : ['repo:admin'];
      const t: HubToken = {
        uuid: randomUUID(),
        username: user,
        label: String(body.token_label ?? ''),
        scopes,
        token: `dckr_pat_${randomBytes(20).toString('base64url')}`,
      };
      live.set(t.uuid, t);
      issued.push({ username: user, token: t.token });
      registry.addSecret(
        user,
        t.token,
        scopes.flatMap((s) => ACTIONS[s] ?? []),
      );
      return json(201, {
        uuid: t.uuid,
        client_id: 'vdl-test',
        creator_ip: '127.0.0.1',
        creator_ua: String(req.headers['user-agent'] ?? ''),
        created_at: new Date().toISOString(),
        last_used: null,
        generated_by: 'manual',
        is_active: true,
        token: t.token,
        token_label: t.label,
        scopes: t.scopes,
      });
    }
    const del = /^\/v2\/access-tokens\/([^/]+)$/.exec(path);
    if (req.method === 'DELETE' && del) {
      const t = live.get(del[1] ?? '');
      if (!t || t.username !== user) return json(404, { detail: 'Not found.' });
      live.delete(t.uuid);
      registry.removeSecret(user, t.token);
      return json(deleteStatus);
    }
    json(404, { detail: 'Not found.' });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

  return {
    url: `http://127.0.0.1:${port}`,
    liveTokens: () =>
      [...live.values()].map(({ uuid, username, label, scopes }) => ({
        uuid,
        username,
        label,
        scopes,
      })),
    issued: () => [...issued],
    addAccount(username, password) {
      accounts.set(username, password);
    },
    setDeleteStatus(status) {
      deleteStatus = status;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
