// The real OpenBao dev server, configured over its HTTP API: JWT auth mounts trusting the test
// issuer, roles, policies and the static registry credential in KV v2.
import { randomBytes } from 'node:crypto';
import { freePort, type Spawned, startProcess, waitFor } from './procs.js';
import type { Fixtures } from './types.js';

export interface RunningBao {
  addr: string;
  port: number;
  rootToken: string;
  /** A root-token call to OpenBao; throws with OpenBao's answer on any non-2xx. */
  api(method: string, path: string, body?: unknown, namespace?: string): Promise<unknown>;
  close(): Promise<void>;
}

/** `env` adds to the server's environment (HTTPS_PROXY, SSL_CERT_FILE). */
export async function startBao(dir: string, env: Record<string, string> = {}): Promise<RunningBao> {
  const port = await freePort();
  const rootToken = `root-${randomBytes(16).toString('hex')}`;
  const addr = `http://127.0.0.1:${port}`;
  const proc: Spawned = startProcess(
    'bao',
    ['server', '-dev', `-dev-root-token-id=${rootToken}`, `-dev-listen-address=127.0.0.1:${port}`],
    // HOME in the tmp dir: the dev server writes no token helper file into the real home.
    { PATH: process.env.PATH, HOME: dir, ...env },
  );
  await waitFor(
    `OpenBao on ${addr}`,
    async () => (await fetch(`${addr}/v1/sys/health`)).status === 200,
    proc,
  );
  async function api(method: string, path: string, body?: unknown, namespace?: string) {
    const headers: Record<string, string> = { 'X-Vault-Token': rootToken };
    if (namespace) headers['X-Vault-Namespace'] = namespace;
    const r = await fetch(`${addr}/v1/${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`OpenBao ${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }
  return { addr, port, rootToken, api, close: () => proc.stop() };
}

const policy = (rules: [string, string[]][]) =>
  rules
    .map(([p, caps]) => `path "${p}" {\n  capabilities = ${JSON.stringify(caps)}\n}\n`)
    .join('\n');

interface RoleSpec {
  mount: string;
  name: string;
  claims: Record<string, string | string[]>;
  policies: string[];
  audiences?: string[];
}

/** Mounts, policies, roles and the KV secret the Fixtures name. */
export async function configureBao(
  bao: RunningBao,
  fx: Fixtures,
  issuerUrl: string,
  kvPassword: string,
): Promise<void> {
  const api = (m: string, p: string, b?: unknown) => bao.api(m, p, b);
  const engine = (account: string, caps: string[]): [string, string[]] => [
    `${fx.engineMount}/token/${account}/*`,
    caps,
  ];
  const kv: [string, string[]] = [`${fx.kvMount}/data/${fx.kvPath}`, ['read']];
  // The path form, narrowed to the engine's leases of the test account (what the docs grant),
  // and the body form for the orb, which still sends the lease id in the body.
  const revokeOwn: [string, string[]] = [
    `sys/leases/revoke/${fx.engineMount}/token/${fx.account}/*`,
    ['update'],
  ];
  const revoke: [string, string[]] = ['sys/leases/revoke', ['update']];
  const rw = ['create', 'update'];
  const policies: Record<string, [string, string[]][]> = {
    'dockerhub-rw': [engine(fx.account, rw), engine(fx.accountNoAdmin, rw), kv],
    'dockerhub-read-only': [engine(fx.account, ['read']), kv],
    'dockerhub-rw-revoke': [
      engine(fx.account, rw),
      engine(fx.accountNoAdmin, rw),
      kv,
      revokeOwn,
      revoke,
    ],
    // Least privilege: its own engine's leases only, in the path form alone.
    'dockerhub-rw-revoke-own': [engine(fx.account, rw), kv, revokeOwn],
  };
  await Promise.all(
    Object.entries(policies).map(([name, rules]) =>
      api('PUT', `sys/policies/acl/${name}`, { policy: policy(rules) }),
    ),
  );

  const mounts = [fx.githubMount, fx.circleciMount, fx.gitlabMount, fx.buildkiteMount];
  await Promise.all(
    mounts.map(async (m) => {
      await api('POST', `sys/auth/${m}`, { type: 'jwt' });
      await api('POST', `auth/${m}/config`, {
        jwks_url: `${issuerUrl}/jwks`,
        bound_issuer: issuerUrl,
      });
    }),
  );

  const gh = { repository: fx.github.repository, ref: fx.github.ref };
  const cc = { 'oidc.circleci.com/project-id': fx.circleci.projectId };
  const roles: RoleSpec[] = [
    { mount: fx.githubMount, name: fx.github.role, claims: gh, policies: ['dockerhub-rw'] },
    {
      mount: fx.githubMount,
      name: fx.github.roleOtherRef,
      claims: { ...gh, ref: 'refs/heads/release' },
      policies: ['dockerhub-rw'],
    },
    {
      mount: fx.githubMount,
      name: fx.github.roleNoCreate,
      claims: gh,
      policies: ['dockerhub-read-only'],
    },
    {
      mount: fx.githubMount,
      name: fx.github.roleCanRevoke,
      claims: gh,
      policies: ['dockerhub-rw-revoke'],
    },
    // CircleCI's default audience is the org id; `circleci run oidc get` can set ours.
    ...[
      [fx.circleci.role, 'dockerhub-rw'],
      [fx.circleci.roleCanRevoke, 'dockerhub-rw-revoke'],
    ].map(([name, p]) => ({
      mount: fx.circleciMount,
      name: name ?? '',
      claims: cc,
      policies: [p ?? ''],
      audiences: [fx.audience, fx.circleci.orgId],
    })),
    {
      mount: fx.gitlabMount,
      name: fx.gitlab.role,
      claims: { project_path: fx.gitlab.projectPath },
      policies: ['dockerhub-rw'],
    },
    {
      mount: fx.buildkiteMount,
      name: fx.buildkite.role,
      claims: { pipeline_slug: fx.buildkite.pipeline },
      policies: ['dockerhub-rw'],
    },
  ];
  await Promise.all(
    roles.map((r) =>
      api('POST', `auth/${r.mount}/role/${r.name}`, {
        role_type: 'jwt',
        bound_audiences: r.audiences ?? [fx.audience],
        bound_claims: r.claims,
        user_claim: 'sub',
        token_policies: r.policies,
        token_ttl: '10m',
        token_max_ttl: '20m',
      }),
    ),
  );

  // The dev server mounts KV v2 at `secret/` already.
  await api('POST', `${fx.kvMount}/data/${fx.kvPath}`, {
    data: { username: fx.kvUsername, password: kvPassword },
  });
}

/** Namespace `login` with a JWT mount and roles whose policies reach the engine in `engine`. */
export async function configureNamespaces(
  bao: RunningBao,
  fx: Fixtures,
  issuerUrl: string,
  ns: { login: string; engine: string },
): Promise<void> {
  const [parent, child] = [ns.login, ns.engine.slice(ns.login.length + 1)];
  await bao.api('POST', `sys/namespaces/${parent}`, {});
  await bao.api('POST', `sys/namespaces/${child}`, {}, parent);
  const api = (m: string, p: string, b?: unknown) => bao.api(m, p, b, parent);
  const token = [`${child}/${fx.engineMount}/token/${fx.account}/*`, ['create', 'update']] as [
    string,
    string[],
  ];
  const revoke = [`${child}/sys/leases/revoke`, ['update']] as [string, string[]];
  const revokeOwn = [
    `${child}/sys/leases/revoke/${fx.engineMount}/token/${fx.account}/*`,
    ['update'],
  ] as [string, string[]];
  await api('PUT', 'sys/policies/acl/dockerhub-rw', { policy: policy([token]) });
  await api('PUT', 'sys/policies/acl/dockerhub-rw-revoke', {
    policy: policy([token, revokeOwn, revoke]),
  });
  await api('POST', `sys/auth/${fx.githubMount}`, { type: 'jwt' });
  await api('POST', `auth/${fx.githubMount}/config`, {
    jwks_url: `${issuerUrl}/jwks`,
    bound_issuer: issuerUrl,
  });
  for (const [role, p] of [
    [fx.github.role, 'dockerhub-rw'],
    [fx.github.roleCanRevoke, 'dockerhub-rw-revoke'],
  ]) {
    await api('POST', `auth/${fx.githubMount}/role/${role}`, {
      role_type: 'jwt',
      bound_audiences: [fx.audience],
      bound_claims: { repository: fx.github.repository, ref: fx.github.ref },
      user_claim: 'sub',
      token_policies: [p],
      token_ttl: '10m',
    });
  }
}
