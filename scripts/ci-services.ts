// Keeps the embedded services up for the project's own workflow, where the Action runs with
// `uses: ./` and GitHub's real OIDC token. Adds a JWT mount trusting GitHub's issuer and a role
// bound to this repository, writes the (non-secret) addresses to GITHUB_ENV, then waits for
// SIGTERM. Usage: tsx scripts/ci-services.ts <ready-file>
import { appendFileSync, writeFileSync } from 'node:fs';
import { startEnv } from '../test/harness/index.js';

const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
const MOUNT = 'github-actions';
const ROLE = 'self-test';
const AUDIENCE = 'vault-docker-login';

const [readyFile] = process.argv.slice(2);
const repository = process.env.GITHUB_REPOSITORY;
const githubEnv = process.env.GITHUB_ENV;
if (!readyFile || !repository || !githubEnv) {
  console.error('usage: tsx scripts/ci-services.ts <ready-file> (inside GitHub Actions)');
  process.exit(2);
}

const env = await startEnv();
const bao = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${env.baoAddr}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': env.rootToken, 'X-Vault-Request': 'true' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return res.status === 204 ? undefined : ((await res.json()) as { data: Record<string, unknown> });
};

// The role gets the same policies as the test environment's GitHub role.
const fixtureRole = await bao(
  'GET',
  `auth/${env.fixtures.githubMount}/role/${env.fixtures.github.role}`,
);
await bao('POST', `sys/auth/${MOUNT}`, { type: 'jwt' });
await bao('POST', `auth/${MOUNT}/config`, {
  oidc_discovery_url: GITHUB_ISSUER,
  bound_issuer: GITHUB_ISSUER,
});
await bao('POST', `auth/${MOUNT}/role/${ROLE}`, {
  role_type: 'jwt',
  user_claim: 'repository',
  bound_audiences: [AUDIENCE],
  bound_claims: { repository },
  token_policies: fixtureRole?.data.token_policies,
  token_ttl: '10m',
});

appendFileSync(
  githubEnv,
  [
    `VDL_VAULT_ADDR=${env.vaultAddr}`,
    `VDL_AUTH_MOUNT=${MOUNT}`,
    `VDL_ROLE=${ROLE}`,
    `VDL_AUDIENCE=${AUDIENCE}`,
    `VDL_ACCOUNT=${env.fixtures.account}`,
    `VDL_REGISTRY=${env.registry.host}`,
    '',
  ].join('\n'),
);
writeFileSync(readyFile, 'ready\n');
console.log(`services up: Vault ${env.vaultAddr}, registry ${env.registry.host}`);

const stop = async () => {
  const alive = env.engine.liveLeases().length;
  await env.stop();
  console.log(`services stopped; leases still alive at stop: ${alive}`);
  process.exit(alive === 0 ? 0 : 1);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setInterval(() => {}, 1 << 30);
